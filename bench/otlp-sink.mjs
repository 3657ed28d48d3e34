// An OTLP/HTTP collector for the tracing benchmark, in a process of its own so that it does not
// share the load generator's CPU: POST /v1/traces is read and answered 200, and its spans are
// counted (without parsing the whole body); GET /count says how many arrived.
import { createServer } from 'node:http';

const port = Number(process.argv[2]);
let spans = 0;
let exports = 0;
createServer((req, res) => {
  if (req.method === 'GET') {
    const status = req.url === '/health' ? { status: 'ok' } : { spans, exports };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status));
    return;
  }
  let text = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (text += chunk));
  req.on('end', () => {
    exports++;
    spans += text.split('"spanId"').length - 1;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
}).listen(port, '127.0.0.1');
