import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { tableDefinition } from '#db/schema';
import { senderAddress } from './config';
import type { AppFunction } from './constructs/app-function';

/**
 * Least-privilege grants, written out instead of the L2 `grant*` helpers where those are
 * broader than the code needs: `grantReadWriteData` adds Scan and DescribeTable and
 * `<table>/index/*`; `grantRead` on a secret adds DescribeSecret.
 */
const itemReads = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const itemWrites = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  // TransactWriteItems is authorized per item: Put/Update/Delete above, and this one.
  'dynamodb:ConditionCheckItem',
];

/**
 * Every key a call names must start with one of `prefixes` (packages/db/access.ts): IAM checks
 * each item of a batch or transaction. `ForAllValues` holds vacuously for a call naming no
 * key (a Scan), which is why no grant here includes Scan.
 */
const leadingKeys = (prefixes: readonly string[]) => ({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': prefixes.map((p) => `${p}*`) },
});

/**
 * Item reads and writes on the table, only on partitions with these key prefixes, and queries
 * on its named indexes (not narrowed: an index query's partition is the index's own key).
 */
export function grantTableReadWrite(target: AppFunction, table: dynamodb.ITable, prefixes: readonly string[]): void {
  target.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [...itemReads, ...itemWrites],
      resources: [table.tableArn],
      conditions: leadingKeys(prefixes),
    }),
  );
  target.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:Query'],
      resources: tableDefinition.indexes.map((ix) => `${table.tableArn}/index/${ix.name}`),
    }),
  );
}

/**
 * Claim an outbox item (a conditional update that returns it, and the item as it was when the
 * claim fails: a read), release or delete it: the notifier's whole use of the table.
 */
export function grantOutboxDelivery(target: AppFunction, table: dynamodb.ITable, prefixes: readonly string[]): void {
  target.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem'],
      resources: [table.tableArn],
      conditions: leadingKeys(prefixes),
    }),
  );
}

/**
 * Read a batch of items, write each whole on a version condition (and read it again when the
 * condition fails without returning it): the usage-rollups function's whole use of the table.
 * No Query, no update or delete.
 */
export function grantReadModifyWrite(target: AppFunction, table: dynamodb.ITable, prefixes: readonly string[]): void {
  target.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
      resources: [table.tableArn],
      conditions: leadingKeys(prefixes),
    }),
  );
}

export function grantSecretValues(target: AppFunction, secrets: secretsmanager.ISecret[]): void {
  if (secrets.length === 0) return;
  target.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: secrets.map((s) => s.secretArn) }),
  );
}

export function grantKey(target: AppFunction, key: kms.IKey, action: 'kms:Encrypt' | 'kms:Decrypt'): void {
  target.addToRolePolicy(new iam.PolicyStatement({ actions: [action], resources: [key.keyArn] }));
}

/**
 * SES sending as EMAIL_FROM only: on the sender's identities (the address or its domain,
 * whichever is verified) and only with that From address. In the SES sandbox SES also
 * authorizes against each recipient's identity; production access needs nothing more.
 */
export function grantSendEmail(target: AppFunction, emailFrom: string): void {
  const address = senderAddress(emailFrom);
  const domain = address.split('@')[1] ?? address;
  const identity = (name: string) => Stack.of(target).formatArn({ service: 'ses', resource: 'identity', resourceName: name });
  target.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['ses:SendEmail', 'ses:SendRawEmail'],
      resources: [identity(address), identity(domain)],
      conditions: { StringEquals: { 'ses:FromAddress': address } },
    }),
  );
}
