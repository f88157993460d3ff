// Vocabularies for characters or whitespace-separated tokens, with padding, unknown, start and
// end symbols at fixed ids 0..3. Serializable (model files store them).
export const PAD = '<pad>',
  UNK = '<unk>',
  BOS = '<bos>',
  EOS = '<eos>';
const SPECIALS = [PAD, UNK, BOS, EOS];

export type VocabularyKind = 'chars' | 'words';

function textArg(what: string, text: unknown): asserts text is string {
  if (typeof text !== 'string')
    throw new TypeError(`${what}: text must be a string, received ${text === null ? 'null' : typeof text}`);
}

function optionsArg<T extends object>(what: string, options: T | undefined, keys: string[]): T {
  if (options === undefined) return {} as T;
  if (options === null || typeof options !== 'object' || Array.isArray(options))
    throw new TypeError(`${what}: options must be an object, received ${options === null ? 'null' : typeof options}`);
  for (const k of Object.keys(options))
    if (!keys.includes(k)) throw new RangeError(`${what}: unknown option '${k}'; known options: ${keys.join(', ')}`);
  return options;
}

export class Vocabulary {
  readonly kind: VocabularyKind;
  readonly tokens: readonly string[];
  private readonly index: Map<string, number>;

  private constructor(kind: VocabularyKind, tokens: string[]) {
    this.kind = kind;
    this.tokens = tokens;
    this.index = new Map(tokens.map((t, i) => [t, i]));
    if (this.index.size !== tokens.length) throw new RangeError('Vocabulary: tokens must be unique');
  }

  /** Every distinct character of `text`, most frequent first (ties by code point). */
  static characters(text: string, options: { minCount?: number } = {}): Vocabulary {
    textArg('Vocabulary.characters', text);
    const o = optionsArg('Vocabulary.characters', options, ['minCount']);
    return Vocabulary.build('chars', Array.from(text), o.minCount ?? 1);
  }
  /** Every distinct whitespace-separated token of `text`, most frequent first. */
  static words(text: string, options: { minCount?: number; maxSize?: number } = {}): Vocabulary {
    textArg('Vocabulary.words', text);
    const o = optionsArg('Vocabulary.words', options, ['minCount', 'maxSize']);
    const maxSize = o.maxSize;
    if (maxSize !== undefined && !(Number.isInteger(maxSize) && maxSize > SPECIALS.length))
      throw new RangeError(
        `Vocabulary.words: maxSize must be an integer > ${SPECIALS.length} (the special symbols count), received ${String(maxSize)}`,
      );
    return Vocabulary.build(
      'words',
      text.split(/\s+/).filter((w) => w.length > 0),
      o.minCount ?? 1,
      maxSize,
    );
  }
  private static build(kind: VocabularyKind, items: string[], minCount: number, maxSize?: number): Vocabulary {
    if (typeof minCount !== 'number' || !Number.isInteger(minCount) || minCount < 1)
      throw new RangeError(`Vocabulary: minCount must be an integer >= 1, received ${minCount}`);
    const counts = new Map<string, number>();
    for (const it of items) counts.set(it, (counts.get(it) ?? 0) + 1);
    let list = [...counts.entries()]
      .filter(([t, c]) => c >= minCount && !SPECIALS.includes(t))
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
      .map(([t]) => t);
    if (maxSize !== undefined) list = list.slice(0, Math.max(0, maxSize - SPECIALS.length));
    return new Vocabulary(kind, [...SPECIALS, ...list]);
  }

  get size(): number {
    return this.tokens.length;
  }
  get pad(): number {
    return 0;
  }
  get unk(): number {
    return 1;
  }
  get bos(): number {
    return 2;
  }
  get eos(): number {
    return 3;
  }

  /** Token ids of a text (unknown symbols map to <unk>). */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`Vocabulary.encode: expected a string, received ${typeof text}`);
    const parts = this.kind === 'chars' ? Array.from(text) : text.split(/\s+/).filter((w) => w.length > 0);
    return parts.map((p) => this.index.get(p) ?? this.unk);
  }
  /** Text of token ids; special symbols are dropped unless keepSpecials. */
  decode(ids: ArrayLike<number>, keepSpecials = false): string {
    if (!Array.isArray(ids) && !ArrayBuffer.isView(ids))
      throw new TypeError(
        `Vocabulary.decode: ids must be an array of token ids, received ${ids === null ? 'null' : typeof ids}`,
      );
    const out: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!Number.isInteger(id) || id < 0 || id >= this.size)
        throw new RangeError(
          `Vocabulary.decode: ids[${i}] must be an integer in [0, ${this.size - 1}], received ${id}`,
        );
      if (id < SPECIALS.length && !keepSpecials) continue;
      out.push(this.tokens[id]);
    }
    return out.join(this.kind === 'chars' ? '' : ' ');
  }
  id(token: string): number {
    return this.index.get(token) ?? this.unk;
  }

  toJSON(): { kind: VocabularyKind; tokens: string[] } {
    return { kind: this.kind, tokens: [...this.tokens] };
  }
  static fromJSON(j: unknown): Vocabulary {
    const o = j as { kind?: unknown; tokens?: unknown };
    if (
      !o ||
      (o.kind !== 'chars' && o.kind !== 'words') ||
      !Array.isArray(o.tokens) ||
      !o.tokens.every((t) => typeof t === 'string')
    ) {
      throw new TypeError('Vocabulary.fromJSON: expected { kind: "chars" | "words", tokens: string[] }');
    }
    if (SPECIALS.some((s, i) => o.tokens![i as never] !== s))
      throw new RangeError(`Vocabulary.fromJSON: the first tokens must be ${SPECIALS.join(' ')}`);
    return new Vocabulary(o.kind, o.tokens as string[]);
  }
}
