/**
 * Alarms and a dashboard: the signals an on-call engineer needs to tell "the control plane is
 * broken" from "a user sent a bad query". Alarms notify an SNS topic (e-mail when configured).
 */
import { Duration } from 'aws-cdk-lib';
import type { HttpApi } from 'aws-cdk-lib/aws-apigatewayv2';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { SkybootFunction } from './functions.js';

export interface SkybootMonitoringProps {
  httpApi: HttpApi;
  functions: SkybootFunction[];
  tableName: string;
  indexNames: string[];
  adminEmail?: string | undefined;
  /** Percentage of requests answered 5xx over five minutes that pages someone. */
  serverErrorPercent?: number;
}

const PERIOD = Duration.minutes(5);

export class SkybootMonitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: SkybootMonitoringProps) {
    super(scope, id);
    this.topic = new Topic(this, 'Alarms', { displayName: 'Skyboot alarms', enforceSSL: true });
    if (props.adminEmail) this.topic.addSubscription(new EmailSubscription(props.adminEmail));
    const action = new SnsAction(this.topic);
    const alarm = (alarmId: string, a: ConstructorParameters<typeof Alarm>[2]) => {
      const made = new Alarm(this, alarmId, a);
      made.addAlarmAction(action);
      made.addOkAction(action);
      this.alarms.push(made);
      return made;
    };

    const requests = props.httpApi.metricCount({ period: PERIOD, statistic: 'Sum' });
    const serverErrors = props.httpApi.metricServerError({ period: PERIOD, statistic: 'Sum' });
    const clientErrors = props.httpApi.metricClientError({ period: PERIOD, statistic: 'Sum' });
    const serverErrorRate = new MathExpression({
      // A rate, not a count: a busy hour should not page when a quiet one would not.
      expression: 'IF(requests > 0, 100 * errors / requests, 0)',
      usingMetrics: { requests, errors: serverErrors },
      period: PERIOD,
      label: 'API 5xx %',
    });
    alarm('Api5xxRate', {
      alarmDescription: 'More than the allowed share of GraphQL requests failed with a 5xx (gateway crash, timeout or integration error).',
      metric: serverErrorRate,
      threshold: props.serverErrorPercent ?? 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    for (const f of props.functions) {
      const name = f.node.id;
      alarm(`${name}Errors`, {
        alarmDescription: `The ${name} Lambda threw or timed out (errors answered as GraphQL errors do not count).`,
        metric: f.fn.metricErrors({ period: PERIOD, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm(`${name}Throttles`, {
        alarmDescription: `The ${name} Lambda was throttled: account concurrency is exhausted or a reserved limit is too low.`,
        metric: f.fn.metricThrottles({ period: PERIOD, statistic: 'Sum' }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
    }

    const ddbThrottles = tableThrottles(props.tableName, props.indexNames);
    alarm('DynamoDbThrottles', {
      alarmDescription: 'DynamoDB throttled reads or writes on the table or a GSI (on-demand: a hot partition or a sudden doubling of traffic).',
      metric: ddbThrottles,
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    this.dashboard = new Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(
      new TextWidget({ markdown: '# Skyboot control plane\nRequests, errors and latency at the API; invocations, errors, throttles and duration per Lambda; DynamoDB capacity and throttling.', width: 24, height: 2 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({ title: 'API requests and errors', left: [requests, clientErrors, serverErrors], width: 8 }),
      new GraphWidget({ title: 'API 5xx %', left: [serverErrorRate], width: 8 }),
      new GraphWidget({
        title: 'API latency (p50, p99)',
        left: [props.httpApi.metricLatency({ period: PERIOD, statistic: 'p50' }), props.httpApi.metricLatency({ period: PERIOD, statistic: 'p99' })],
        width: 8,
      }),
    );
    const perFunction = (title: string, metric: (f: SkybootFunction) => IMetric) =>
      new GraphWidget({ title, left: props.functions.map(metric), width: 6 });
    this.dashboard.addWidgets(
      perFunction('Lambda invocations', (f) => f.fn.metricInvocations({ period: PERIOD, label: f.node.id })),
      perFunction('Lambda errors', (f) => f.fn.metricErrors({ period: PERIOD, label: f.node.id })),
      perFunction('Lambda throttles', (f) => f.fn.metricThrottles({ period: PERIOD, label: f.node.id })),
      perFunction('Lambda duration p99', (f) => f.fn.metricDuration({ period: PERIOD, statistic: 'p99', label: f.node.id })),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: 'DynamoDB consumed capacity',
        left: ['ConsumedReadCapacityUnits', 'ConsumedWriteCapacityUnits'].map((metricName) =>
          new Metric({ namespace: 'AWS/DynamoDB', metricName, dimensionsMap: { TableName: props.tableName }, statistic: 'Sum', period: PERIOD })),
        width: 12,
      }),
      new GraphWidget({ title: 'DynamoDB throttle events (table + GSIs)', left: [ddbThrottles], width: 12 }),
    );
  }
}

/** Read and write throttle events of the table and each GSI, summed: a GSI that throttles slows the table's writes too. */
function tableThrottles(tableName: string, indexNames: string[]): MathExpression {
  const usingMetrics: Record<string, IMetric> = {};
  const metric = (metricName: string, index?: string) =>
    new Metric({
      namespace: 'AWS/DynamoDB',
      metricName,
      dimensionsMap: { TableName: tableName, ...(index ? { GlobalSecondaryIndexName: index } : {}) },
      statistic: 'Sum',
      period: PERIOD,
    });
  usingMetrics.tr = metric('ReadThrottleEvents');
  usingMetrics.tw = metric('WriteThrottleEvents');
  indexNames.forEach((index, i) => {
    usingMetrics[`r${i}`] = metric('ReadThrottleEvents', index);
    usingMetrics[`w${i}`] = metric('WriteThrottleEvents', index);
  });
  return new MathExpression({
    expression: `SUM([${Object.keys(usingMetrics).join(', ')}])`,
    usingMetrics,
    period: PERIOD,
    label: 'DynamoDB throttle events',
  });
}
