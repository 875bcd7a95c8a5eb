import { z } from 'zod';

/**
 * A value kept in a JetStream Object Store bucket instead of inline: what a job record,
 * a task or a result holds in place of a step output, task input or job result larger
 * than `inlineOutputBytes`. Whoever needs the value resolves it (libs/bus
 * `resolveObjectRefs`); `pointer` (RFC 6901) selects a part of the stored JSON, so a
 * `$ref` into a stored output stays a reference instead of copying it.
 *
 * The single key `$object` cannot clash with a step input's `{ "$ref": … }`, and a
 * client's own data is never taken for a reference: refs are only resolved where the
 * planner put them (task inputs, step outputs, the result).
 */
export const ObjectRefSchema = z
  .object({
    $object: z
      .object({
        bucket: z.string().min(1).max(64),
        name: z.string().min(1).max(512),
        /** Size of the stored JSON text, bytes. */
        bytes: z.number().int().nonnegative(),
        /** `SHA-256=<base64url>` of the stored bytes, as the Object Store records it. */
        digest: z.string().max(128),
        pointer: z.string().max(1024).optional(),
      })
      .strict(),
  })
  .strict();
export type ObjectRef = z.infer<typeof ObjectRefSchema>;

/** Whether a JSON value is an ObjectRef. */
export function isObjectRef(value: unknown): value is ObjectRef {
  return value !== null && typeof value === 'object' && '$object' in value && ObjectRefSchema.safeParse(value).success;
}

/** A reference to a part of a stored value: `pointer` appended to the reference's own. */
export function objectRefAt(ref: ObjectRef, pointer: string): ObjectRef {
  if (pointer === '') return ref;
  return { $object: { ...ref.$object, pointer: `${ref.$object.pointer ?? ''}${pointer}` } };
}

/**
 * The value at a JSON pointer (RFC 6901) in `root`, or the first key that is missing.
 * The one pointer reader of Orchestra: the planner's `$ref`s and ObjectRef pointers.
 */
export function readJsonPointer(root: unknown, pointer: string): { ok: true; value: unknown } | { ok: false; missing: string; at: unknown; rest: string } {
  let node = root;
  const tokens = pointer.split('/').slice(1);
  for (let i = 0; i < tokens.length; i++) {
    const key = tokens[i].replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !Object.prototype.hasOwnProperty.call(node, key)) {
      return { ok: false, missing: key, at: node, rest: `/${tokens.slice(i).join('/')}` };
    }
    node = (node as Record<string, unknown>)[key];
  }
  return { ok: true, value: node };
}
