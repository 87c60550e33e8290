/** What a fault test needs to know of each answer given while it broke something. */
export interface Answer {
  route: string;
  status: number;
  contentType: string;
  retryAfter: string | null;
  code?: string;
}

export async function answerOf(route: string, response: Response): Promise<Answer> {
  const contentType = response.headers.get('content-type') ?? '';
  const text = await response.text();
  let code: string | undefined;
  if (contentType.startsWith('application/problem+json')) code = (JSON.parse(text) as { code?: string }).code;
  return { route, status: response.status, contentType, retryAfter: response.headers.get('retry-after'), code };
}

/**
 * Answers that break the outage contract: anything but a success or a 503 problem+json with
 * Retry-After. Returned rather than asserted one by one, so a failure shows all of them.
 */
export function contractBreaches(answers: Answer[], isSuccess: (answer: Answer) => boolean): Answer[] {
  return answers.filter(
    (answer) =>
      !isSuccess(answer) &&
      !(answer.status === 503 && answer.contentType.startsWith('application/problem+json') && answer.code !== undefined && /^\d+$/.test(answer.retryAfter ?? '')),
  );
}

/** Runs `request` from `clients` concurrent loops until stopped; every answer is kept. */
export function startLoad(clients: number, request: (client: number, round: number) => Promise<Answer>): { answers: Answer[]; stop(): Promise<void> } {
  const answers: Answer[] = [];
  let stopping = false;
  const loops = Array.from({ length: clients }, async (_, client) => {
    for (let round = 0; !stopping; round++) {
      answers.push(await request(client, round));
      // A breath between requests: a small load, not a flood of 503s in a tight loop.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  });
  return {
    answers,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `probe` every `intervalMs` until it returns true, at most `attempts` times; returns the polls it took. */
export async function pollUntil(probe: () => Promise<boolean>, what: string, attempts: number, intervalMs = 50): Promise<number> {
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (await probe()) return attempt;
    await sleep(intervalMs);
  }
  throw new Error(`${what}: not within ${attempts} polls`);
}
