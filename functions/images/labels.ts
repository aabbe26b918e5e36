/** setImageLabels: replaces an image's labels (the label index items move with them). */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { NotFoundError } from '../../schema/errors.js';
import { auditPut } from '../shared/audit.js';
import type { OperationContext } from '../shared/handler.js';
import { labelItems } from './create.js';
import { imageKey, imageLabelKey } from './keys.js';
import type { Label } from './model.js';
import { getImageItem, loadImageView, type ImageView } from './store.js';
import { checkLabels } from './validate.js';

export async function setImageLabels(args: { id: string; labels: Label[] }, ctx: OperationContext): Promise<ImageView> {
  const c = ctx.clients;
  const labels = checkLabels(args.labels, 'labels');
  const image = await getImageItem(c, args.id);
  if (!image) throw new NotFoundError('image', args.id, 'id');
  const table = c.config.tableName;
  const keep = new Set(labels.map((l) => l.key));
  await c.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: table,
            Key: imageKey(image.id),
            UpdateExpression: 'SET labels = :l, updatedAt = :now, version = version + :one',
            ConditionExpression: 'version = :v',
            ExpressionAttributeValues: { ':l': labels, ':now': new Date().toISOString(), ':one': 1, ':v': image.version },
          },
        },
        ...(image.labels ?? []).filter((l) => !keep.has(l.key)).map((l) => ({ Delete: { TableName: table, Key: imageLabelKey(image.id, l.key) } })),
        ...labelItems(image, labels).map((Item) => ({ Put: { TableName: table, Item } })),
        auditPut(ctx, { operation: 'setImageLabels', target: `image:${image.id}`, before: image.labels, after: labels }),
      ],
    }),
  );
  return (await loadImageView(c, image.id))!;
}
