import type { PortableRegistry } from '@polkadot/types';
import type { Si1Type } from '@polkadot/types/interfaces';
import { OrchestraError } from '@orchestra/contracts';

/**
 * A plain SCALE value: numbers for integers up to 32 bits, bigints above, Uint8Array for
 * byte arrays and Vec<u8>, objects for named composites (field names as in the metadata,
 * snake_case), arrays for sequences and tuples, null/value for Option, `{ variant, value }`
 * for other enums. A newtype (one unnamed field) is its inner value.
 */
export type ScaleValue = number | bigint | boolean | string | null | Uint8Array | ScaleValue[] | { [field: string]: ScaleValue };

/** Bytes that do not decode as the type the runtime declares: the node's fault, not ours. */
export class ScaleDecodeError extends OrchestraError {
  readonly retryable = false;
  constructor(message: string) {
    super(message);
    this.name = 'ScaleDecodeError';
  }
}

type Decoder = (input: Cursor) => ScaleValue;

class Cursor {
  offset = 0;
  constructor(readonly bytes: Uint8Array) {}

  take(length: number): Uint8Array {
    if (this.offset + length > this.bytes.length) {
      throw new ScaleDecodeError(`needs ${length} more bytes at offset ${this.offset} of ${this.bytes.length}`);
    }
    const slice = this.bytes.subarray(this.offset, this.offset + length);
    this.offset += length;
    return slice;
  }

  get remaining(): number {
    return this.bytes.length - this.offset;
  }
}

const PRIMITIVE_BYTES: Record<string, number> = { U8: 1, I8: 1, U16: 2, I16: 2, U32: 4, I32: 4, Char: 4, U64: 8, I64: 8, U128: 16, I128: 16, U256: 32, I256: 32 };

function littleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i -= 1) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

function decodeCompact(input: Cursor): bigint {
  const first = input.take(1)[0];
  switch (first & 3) {
    case 0:
      return BigInt(first >> 2);
    case 1:
      return BigInt((first | (input.take(1)[0] << 8)) >> 2);
    case 2: {
      const rest = input.take(3);
      return BigInt(((first | (rest[0] << 8) | (rest[1] << 16) | (rest[2] << 24)) >>> 2) >>> 0);
    }
    default:
      return littleEndian(input.take((first >> 2) + 4));
  }
}

/** A sequence's length, refused when the bytes left could not hold that many elements. */
function decodeLength(input: Cursor): number {
  const length = decodeCompact(input);
  if (length > BigInt(input.remaining)) throw new ScaleDecodeError(`sequence of ${length} elements with ${input.remaining} bytes left`);
  return Number(length);
}

/**
 * Decodes SCALE bytes of any type in a runtime's metadata (its portable type registry) into
 * plain values. It exists for speed: @polkadot/types builds a Codec object per field, which
 * costs ~80 ms per 256-UID metagraph, ~5 s for finney's 64 subnets; this takes a few ms.
 * Decoders are compiled once per type id. Bounded: a length is never trusted beyond the
 * bytes received, and any shortfall or leftover is a {@link ScaleDecodeError}.
 */
export class ScaleDecoder {
  private readonly compiled = new Map<number, Decoder>();

  constructor(private readonly lookup: PortableRegistry) {}

  /** Decodes `bytes` as type `typeId`; the bytes must be exactly one value. */
  decode(typeId: number, bytes: Uint8Array): ScaleValue {
    const input = new Cursor(bytes);
    const value = this.decoder(typeId)(input);
    if (input.remaining !== 0) throw new ScaleDecodeError(`${input.remaining} bytes left over after the value`);
    return value;
  }

  private decoder(typeId: number): Decoder {
    let decoder = this.compiled.get(typeId);
    if (!decoder) {
      // Recursive types resolve through the map: the placeholder defers to the compiled one.
      this.compiled.set(typeId, (input) => (this.compiled.get(typeId) as Decoder)(input));
      decoder = this.compile(this.lookup.getSiType(typeId));
      this.compiled.set(typeId, decoder);
    }
    return decoder;
  }

  private compile(type: Si1Type): Decoder {
    const { def } = type;
    if (def.isPrimitive) return this.primitive(def.asPrimitive.type);
    if (def.isCompact) return this.compact(def.asCompact.type.toNumber());
    if (def.isSequence) {
      const elementId = def.asSequence.type.toNumber();
      if (this.isU8(elementId)) return (input) => input.take(decodeLength(input)).slice();
      const element = this.decoder(elementId);
      return (input) => Array.from({ length: decodeLength(input) }, () => element(input));
    }
    if (def.isArray) {
      const length = def.asArray.len.toNumber();
      const elementId = def.asArray.type.toNumber();
      if (this.isU8(elementId)) return (input) => input.take(length).slice();
      const element = this.decoder(elementId);
      return (input) => Array.from({ length }, () => element(input));
    }
    if (def.isTuple) {
      const elements = def.asTuple.map((id) => this.decoder(id.toNumber()));
      return (input) => elements.map((element) => element(input));
    }
    if (def.isComposite) {
      const fields = def.asComposite.fields.map((f) => ({ name: f.name.isSome ? f.name.unwrap().toString() : undefined, decode: this.decoder(f.type.toNumber()) }));
      if (fields.length === 1 && fields[0].name === undefined) return fields[0].decode;
      if (fields.some((f) => f.name === undefined)) return (input) => fields.map((f) => f.decode(input));
      return (input) => {
        const value: { [field: string]: ScaleValue } = {};
        for (const f of fields) value[f.name as string] = f.decode(input);
        return value;
      };
    }
    if (def.isVariant) {
      const variants = new Map(def.asVariant.variants.map((v) => [v.index.toNumber(), { name: v.name.toString(), fields: v.fields.map((f) => this.decoder(f.type.toNumber())) }]));
      const isOption = type.path.map(String).join('::') === 'Option';
      return (input) => {
        const index = input.take(1)[0];
        const variant = variants.get(index);
        if (!variant) throw new ScaleDecodeError(`no variant ${index} in ${type.path.map(String).join('::') || 'enum'}`);
        const values = variant.fields.map((field) => field(input));
        if (isOption) return variant.name === 'Some' ? values[0] : null;
        return { variant: variant.name, value: values.length === 1 ? values[0] : values };
      };
    }
    if (def.isBitSequence) {
      return (input) => input.take(Math.ceil(Number(decodeCompact(input)) / 8)).slice();
    }
    throw new ScaleDecodeError(`unsupported type definition ${def.type}`);
  }

  private primitive(name: string): Decoder {
    if (name === 'Bool') {
      return (input) => {
        const byte = input.take(1)[0];
        if (byte > 1) throw new ScaleDecodeError(`bool byte ${byte}`);
        return byte === 1;
      };
    }
    if (name === 'Str') return (input) => new TextDecoder().decode(input.take(decodeLength(input)));
    const size = PRIMITIVE_BYTES[name];
    if (size === undefined) throw new ScaleDecodeError(`unsupported primitive ${name}`);
    const signed = name.startsWith('I');
    return (input) => {
      const bytes = input.take(size);
      let value = littleEndian(bytes);
      if (signed && bytes[size - 1] & 0x80) value -= 1n << BigInt(size * 8);
      return size <= 4 ? Number(value) : value;
    };
  }

  /** Compact<T>: a number when T is at most 32 bits wide (through newtypes like NetUid), else a bigint. */
  private compact(innerId: number): Decoder {
    const small = (PRIMITIVE_BYTES[this.innerPrimitive(innerId)] ?? 16) <= 4;
    return (input) => {
      const value = decodeCompact(input);
      return small ? Number(value) : value;
    };
  }

  private innerPrimitive(typeId: number): string {
    const { def } = this.lookup.getSiType(typeId);
    if (def.isPrimitive) return def.asPrimitive.type;
    if (def.isComposite && def.asComposite.fields.length === 1) return this.innerPrimitive(def.asComposite.fields[0].type.toNumber());
    return 'Composite';
  }

  private isU8(typeId: number): boolean {
    const { def } = this.lookup.getSiType(typeId);
    return def.isPrimitive && def.asPrimitive.type === 'U8';
  }
}
