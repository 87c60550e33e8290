import { type Context, SpanKind } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';

/** The attribute the HTTP instrumentation puts an outgoing call's address in. */
const URL_FULL = 'url.full';

/**
 * Cuts the query string (and fragment) from an outgoing call's `url.full`, as the span starts.
 * The HTTP instrumentation keeps the whole query string, masking only a few signature parameters
 * (its credentials it already replaces), and what a domain puts there is its own business: a
 * search term, an e-mail, a cursor, a signed link. The path stays: a service call's route and
 * resource id are what a trace is read for. The address itself is the instrumentation's, so its
 * scheme, host and port are never rebuilt here.
 */
export class OutgoingUrlSpanProcessor implements SpanProcessor {
  onStart(span: Span, _parent: Context): void {
    if (span.kind !== SpanKind.CLIENT || !span.isRecording()) return;
    const url = span.attributes[URL_FULL];
    if (typeof url === 'string') span.setAttribute(URL_FULL, urlWithoutQuery(url));
  }

  onEnd(_span: ReadableSpan): void {}

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** `url` up to its query string or fragment. */
export function urlWithoutQuery(url: string): string {
  return url.split(/[?#]/, 1)[0];
}
