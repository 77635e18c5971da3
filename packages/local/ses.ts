import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import sesModule from 'aws-ses-v2-local';

type StartSes = (config?: { host?: string; port?: number }) => Promise<Server>;

/** aws-ses-v2-local: the SES API, and at `/` a page listing every email sent. */
export async function startLocalSes(port: number): Promise<{ endpoint: string; server: Server }> {
  const start = ((sesModule as unknown as { default?: StartSes }).default ?? sesModule) as StartSes;
  const server = await start({ host: '127.0.0.1', port });
  if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
  const actual = (server.address() as AddressInfo).port;
  return { endpoint: `http://127.0.0.1:${actual}`, server };
}
