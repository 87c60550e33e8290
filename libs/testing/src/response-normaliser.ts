import type { ApiResponse } from './api-client';

/** What two responses are compared on: status, media type and body, without per-request noise. */
export interface NormalisedResponse {
  status: number;
  contentType: string;
  body: string;
}

/**
 * `probedIds` are the ids the two compared requests differ by: a response may echo the id the
 * caller sent without telling anything about another tenant, so they are masked.
 */
export type ResponseNormaliser = (response: ApiResponse, probedIds: string[]) => NormalisedResponse;

export interface NoiseOptions {
  /** JSON keys removed at any depth: values that differ on every request. */
  bodyKeys?: string[];
}

export const DEFAULT_NOISE_KEYS = ['instance', 'requestId', 'traceId', 'timestamp'];

/** The default normaliser; pass your own keys when your problems carry other per-request values. */
export function removeNoise(options: NoiseOptions = {}): ResponseNormaliser {
  const keys = new Set(options.bodyKeys ?? DEFAULT_NOISE_KEYS);
  return (response, probedIds) => {
    let body = response.text;
    if (response.json !== undefined) body = JSON.stringify(strip(response.json, keys));
    for (const id of probedIds) body = body.split(id).join('<probed id>');
    return { status: response.status, contentType: response.contentType.replace(/\s+/g, '').toLowerCase(), body };
  };
}

function strip(value: unknown, keys: Set<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => strip(item, keys));
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).filter(([key]) => !keys.has(key)).map(([key, item]) => [key, strip(item, keys)]));
}
