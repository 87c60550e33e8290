import type { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { ProblemError } from './problem.error';
import { PROBLEM_CONTENT_TYPE, toProblem } from './problem.filter';

/** What Node's own default handler answers for each parser error, with the same statuses; anything else is 400. */
const PARSER_PROBLEMS: Record<string, ProblemError> = {
  HPE_HEADER_OVERFLOW: new ProblemError(431, 'headers_too_large', 'Request header fields too large', 'The request line and headers exceed the size limit.'),
  HPE_CHUNK_EXTENSIONS_OVERFLOW: new ProblemError(413, 'payload_too_large', 'Payload too large', 'The chunk extensions exceed the size limit.'),
  ERR_HTTP_REQUEST_TIMEOUT: new ProblemError(408, 'request_timeout', 'Request timeout', 'The request was not received in time.'),
};
const MALFORMED = new ProblemError(400, 'bad_request', 'Bad request', 'The request is not well-formed HTTP.');

const REASONS: Record<number, string> = { 400: 'Bad Request', 405: 'Method Not Allowed', 408: 'Request Timeout', 413: 'Payload Too Large', 431: 'Request Header Fields Too Large' };
const CONNECT_REFUSED = new ProblemError(405, 'method_not_allowed', 'Method not allowed', 'This server is not a proxy: CONNECT is not served.');

/** A client that never reads its answer does not keep the socket. */
const LINGER_MS = 2000;

const answered = new WeakSet<Duplex>();

/**
 * A `clientError` listener for the HTTP server: a request Node's parser refuses (bad request
 * line, bad Content-Length, headers over the limit) never reaches express, and Node's default
 * answers it with an empty body. This answers it as problem+json, then closes the connection.
 */
export function answerClientError(error: Error & { code?: string }, socket: Duplex): void {
  // The parser keeps failing on whatever else arrives on this connection: answer once.
  if (answered.has(socket)) return;
  answered.add(socket);
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  // A request read before the garbage (pipelined) is being served: its answer goes first, then
  // this one. Written over it, the client saw only the refusal of a write that had committed.
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished) {
    inFlight.once('finish', () => writeProblem(PARSER_PROBLEMS[error.code ?? ''] ?? MALFORMED, socket));
    inFlight.once('close', () => {
      if (!inFlight.writableFinished) socket.destroy();
    });
    return;
  }
  writeProblem(PARSER_PROBLEMS[error.code ?? ''] ?? MALFORMED, socket);
}

/**
 * A `connect` listener for the HTTP server: Node hands a CONNECT request to it instead of the
 * router, and with none it closed the connection without a word. Answered 405 as problem+json.
 */
export function answerConnect(_request: unknown, socket: Duplex): void {
  writeProblem(CONNECT_REFUSED, socket);
}

function writeProblem(refusal: ProblemError, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const problem = toProblem(refusal);
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${problem.status} ${REASONS[problem.status]}\r\n` +
      `Content-Type: ${PROBLEM_CONTENT_TYPE}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
  );
  // Ending (rather than destroying) lets the answer reach a client still sending; the timer bounds it.
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

const EXPECTATION_FAILED = new ProblemError(417, 'expectation_failed', 'Expectation failed', 'The only expectation this server meets is 100-continue.');

/**
 * A `checkExpectation` listener for the HTTP server: a request whose `Expect` is anything but
 * `100-continue` is refused before it reaches Fastify, and Node's default answers 417 with an
 * empty body. This answers it as problem+json.
 */
export function answerUnmetExpectation(_request: unknown, response: ServerResponse): void {
  const body = JSON.stringify(toProblem(EXPECTATION_FAILED));
  response.writeHead(417, { 'content-type': PROBLEM_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}
