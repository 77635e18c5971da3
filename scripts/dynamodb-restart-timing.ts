/**
 * How long DynamoDB Local is gone after a kill -9: `npx tsx scripts/dynamodb-restart-timing.ts [runs]`.
 * Prints, per run, the time until it answers ListTables again and until the supervisor calls
 * it back (the table ensured), in memory and on disk.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { localCredentials, localRegion } from '#local/aws-env';
import { dynamoService } from '#local/dynamodb';
import { freePort } from '#local/stack';
import { createSupervisor } from '#local/supervisor';

const runs = Number(process.argv[2] ?? 3);
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)}s`;

for (const mode of ['in memory', 'on disk'] as const) {
  const dataDir = mode === 'on disk' ? mkdtempSync(join(tmpdir(), 'restart-timing-')) : undefined;
  const port = await freePort();
  const supervisor = createSupervisor({ log: () => undefined, policy: { maxRestarts: runs + 1 } });
  const client = new DynamoDBClient({ endpoint: `http://127.0.0.1:${port}`, region: localRegion, credentials: localCredentials });
  try {
    await supervisor.add(dynamoService({ port, dataDir, tableName: 'restart-timing' }));
    for (let run = 1; run <= runs; run++) {
      const back = new Promise((resolve) => supervisor.events.once('back', resolve));
      const killedAt = performance.now();
      process.kill(supervisor.pid('dynamodb') as number, 'SIGKILL');
      for (;;) {
        const ok = await client.send(new ListTablesCommand({})).then(
          () => true,
          () => false,
        );
        if (ok) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const answering = seconds(killedAt);
      await back;
      console.log(`${mode}, run ${run}: answering ${answering} after kill -9, back (table ensured) ${seconds(killedAt)}`);
    }
  } finally {
    await supervisor.stop();
    client.destroy();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
}
