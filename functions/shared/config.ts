/**
 * Deployment settings, read once from the environment. In AWS the CDK sets them on each
 * function; locally `npm start` and the test harness set them. Endpoints use the AWS SDK's
 * own variable names (AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL_S3).
 */
export interface SkybootConfig {
  tableName: string;
  bucketName: string;
  region: string;
  dynamodbEndpoint: string | undefined;
  s3Endpoint: string | undefined;
  /** True against local emulators (DynamoDB Local, s3rver, LocalStack): path-style S3, relaxed checksums. */
  local: boolean;
  defaultSite: string;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): SkybootConfig {
  const dynamodbEndpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || undefined;
  const s3Endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  return {
    tableName: env.SKYBOOT_TABLE ?? 'skyboot',
    bucketName: env.SKYBOOT_BUCKET ?? 'skyboot-images',
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    dynamodbEndpoint,
    s3Endpoint,
    local: env.SKYBOOT_LOCAL === '1' || dynamodbEndpoint !== undefined || s3Endpoint !== undefined,
    defaultSite: env.SKYBOOT_DEFAULT_SITE ?? 'local',
  };
}
