/**
 * A string matching a JSON Schema `pattern`, for properties the document gives no example for.
 * Covers what validation patterns use (classes, ranges, groups, alternation, quantifiers,
 * anchors); lookarounds are treated as zero-width and the result is re-checked, so a pattern this
 * cannot honour makes `sampleRegex` return undefined rather than a wrong value.
 */
export function sampleRegex(pattern: string, random: () => number = Math.random, attempts = 50): string | undefined {
  const regex = new RegExp(pattern, 'u');
  for (let attempt = 0; attempt < attempts; attempt++) {
    let candidate: string;
    try {
      candidate = new Sampler(pattern, random).alternation();
    } catch {
      return undefined;
    }
    if (regex.test(candidate)) return candidate;
  }
  return undefined;
}

const PRINTABLE = Array.from({ length: 95 }, (_, index) => String.fromCharCode(32 + index));
const ESCAPES: Record<string, string[]> = {
  d: '0123456789'.split(''),
  w: 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_'.split(''),
  s: [' '],
};

class Sampler {
  private index = 0;

  constructor(
    private readonly source: string,
    private readonly random: () => number,
  ) {}

  /** Samples every branch (to consume the source) and keeps one at random. */
  alternation(): string {
    const results: string[] = [this.sequence()];
    while (this.peek() === '|') {
      this.index++;
      results.push(this.sequence());
    }
    return results[Math.floor(this.random() * results.length)];
  }

  private sequence(): string {
    let out = '';
    while (this.index < this.source.length && this.peek() !== '|' && this.peek() !== ')') {
      const atom = this.atom();
      const [min, max] = this.quantifier();
      const count = min + Math.floor(this.random() * (Math.min(max, min + 6) - min + 1));
      for (let i = 0; i < count; i++) out += atom();
    }
    return out;
  }

  /** Returns a generator for one occurrence, so a quantified group is re-sampled each time. */
  private atom(): () => string {
    const char = this.source[this.index++];
    if (char === '^' || char === '$') return () => '';
    if (char === '.') return () => this.pick(PRINTABLE.filter((c) => c !== '\n'));
    if (char === '\\') {
      const escaped = this.source[this.index++];
      const set = ESCAPES[escaped];
      return () => (set ? this.pick(set) : escaped);
    }
    if (char === '[') {
      const set = this.characterClass();
      return () => this.pick(set);
    }
    if (char === '(') {
      let lookaround = false;
      if (this.source.startsWith('?:', this.index)) this.index += 2;
      else if (/^\?<?[=!]/.test(this.source.slice(this.index))) {
        lookaround = true;
        this.index += this.source[this.index + 1] === '<' ? 3 : 2;
      } else if (this.source.startsWith('?<', this.index)) {
        this.index = this.source.indexOf('>', this.index) + 1;
      }
      const groupStart = this.index;
      this.alternation();
      const groupEnd = this.index;
      if (this.source[this.index++] !== ')') throw new Error('unbalanced group');
      if (lookaround) return () => '';
      const body = this.source.slice(groupStart, groupEnd);
      return () => new Sampler(body, this.random).alternation();
    }
    return () => char;
  }

  private characterClass(): string[] {
    const negated = this.peek() === '^';
    if (negated) this.index++;
    const members = new Set<string>();
    let first = true;
    while (this.index < this.source.length && (this.peek() !== ']' || first)) {
      first = false;
      let char = this.source[this.index++];
      if (char === '\\') {
        const escaped = this.source[this.index++];
        if (ESCAPES[escaped]) {
          ESCAPES[escaped].forEach((member) => members.add(member));
          continue;
        }
        char = escaped;
      }
      if (this.peek() === '-' && this.source[this.index + 1] !== ']' && this.index + 1 < this.source.length) {
        this.index++;
        let end = this.source[this.index++];
        if (end === '\\') end = this.source[this.index++];
        for (let code = char.charCodeAt(0); code <= end.charCodeAt(0); code++) members.add(String.fromCharCode(code));
      } else {
        members.add(char);
      }
    }
    this.index++;
    const set = negated ? PRINTABLE.filter((c) => !members.has(c)) : [...members];
    if (!set.length) throw new Error('empty character class');
    return set;
  }

  private quantifier(): [number, number] {
    const char = this.peek();
    let range: [number, number] = [1, 1];
    if (char === '?') range = [0, 1];
    else if (char === '*') range = [0, 6];
    else if (char === '+') range = [1, 6];
    else if (char === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(this.source.slice(this.index));
      if (!match) return range;
      this.index += match[0].length;
      const min = Number(match[1]);
      const max = match[2] === undefined ? min : match[3] === '' ? min + 6 : Number(match[3]);
      range = [min, max];
      if (this.peek() === '?') this.index++;
      return range;
    } else {
      return range;
    }
    this.index++;
    if (this.peek() === '?') this.index++;
    return range;
  }

  private peek(): string | undefined {
    return this.source[this.index];
  }

  private pick(set: string[]): string {
    return set[Math.floor(this.random() * set.length)];
  }
}
