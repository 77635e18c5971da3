import { build } from 'esbuild';

const r = await build({
  entryPoints: [process.argv[2]],
  bundle: true,
  platform: 'node',
  format: 'esm',
  minify: true,
  mainFields: ['module', 'main'],
  alias: { '@aws-sdk/credential-provider-node': './scripts/_cred.mjs' },
  metafile: true,
  write: false,
  target: 'node20',
});
const out = Object.values(r.metafile.outputs)[0];
const rows = Object.entries(out.inputs)
  .filter(([f]) => f.includes(process.argv[3]))
  .map(([f, v]) => [v.bytesInOutput, f])
  .sort((a, b) => b[0] - a[0])
  .slice(0, 30);
for (const [b, f] of rows) console.log(String(b).padStart(7), f.replace(/.*node_modules\//, ''));
