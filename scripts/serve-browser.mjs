// Builds the browser bundles, then serves the example page on 127.0.0.1 (a free port unless
// --port N is given) and prints its URL:
//   /                 examples/browser/index.html (and the other files there: style.css)
//   /example/*        dist/browser/example/* (the page's main.js and worker.js)
//   /causalmix.js     dist/browser/causalmix.js (the library bundle)
//
//   node scripts/serve-browser.mjs [--port N] [--no-build]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildBrowser } from './build-browser.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const MIME = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};
const PAGE_DIR = join(root, 'examples', 'browser');
const BUNDLE_DIR = join(root, 'dist', 'browser');

/** The file a URL names, or null when it would leave its folder. */
function fileFor(url) {
  let path;
  try {
    path = decodeURIComponent(new URL(url, 'http://localhost').pathname);
  } catch {
    return null;
  }
  if (path === '/causalmix.js' || path === '/causalmix.js.map') return join(BUNDLE_DIR, path);
  const [prefix, dir] = path.startsWith('/example/')
    ? ['/example/', join(BUNDLE_DIR, 'example')]
    : ['/', PAGE_DIR];
  const file = normalize(join(dir, path.slice(prefix.length) || 'index.html'));
  return file.startsWith(dir + sep) ? file : null;
}

function parseArgs(argv) {
  const out = { port: 0, build: true };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--no-build') out.build = false;
    else if (argv[i] === '--port') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 0 || n > 65535) {
        console.error(`--port must be a port number (0-65535), got '${argv[i]}'`);
        process.exit(2);
      }
      out.port = n;
    } else {
      console.error(`unknown option '${argv[i]}' (use --port N, --no-build)`);
      process.exit(2);
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
if (args.build) {
  try {
    const files = await buildBrowser({ example: true });
    console.log(`built ${files.map((f) => f.path).join(', ')}`);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}

const server = createServer(async (req, res) => {
  const file = req.method === 'GET' || req.method === 'HEAD' ? fileFor(req.url ?? '/') : null;
  try {
    if (file === null) throw Object.assign(new Error('not found'), { code: 'ENOENT' });
    const body = await readFile(file);
    res.writeHead(200, {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (e) {
    const missing = e.code === 'ENOENT' || e.code === 'EISDIR';
    res.writeHead(missing ? 404 : 500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(missing ? `not found: ${req.url}\n` : `server error: ${e.message}\n`);
  }
});

server.on('error', (e) => {
  console.error(`cannot serve on 127.0.0.1:${args.port}: ${e.message}`);
  process.exit(1);
});
server.listen(args.port, '127.0.0.1', () => {
  const { port } = server.address();
  console.log(`causalmix browser example: http://127.0.0.1:${port}/`);
  console.log('(Ctrl+C stops the server)');
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));
