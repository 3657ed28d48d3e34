import { Transform } from 'class-transformer';
import { parseByteSize, parseDuration } from './duration.js';

// Transforms shared by the config sections: OPENCLAW_* values arrive as strings, openclaw.json
// ones may be "60s" or "1mb"; each becomes what its validator expects, or stays as it was so the
// validator names the key.

export const duration = () =>
  Transform(({ value }: { value: unknown }) => parseDuration(value) ?? value, {
    toClassOnly: true,
  });
export const bytes = () =>
  Transform(({ value }: { value: unknown }) => parseByteSize(value) ?? value, {
    toClassOnly: true,
  });
export const integer = () =>
  Transform(
    ({ value }: { value: unknown }) =>
      typeof value === 'string' && /^\s*-?\d+\s*$/.test(value) ? Number(value) : value,
    { toClassOnly: true },
  );
export const boolean = () =>
  Transform(
    ({ value }: { value: unknown }) =>
      value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value,
    { toClassOnly: true },
  );
export const DURATION = {
  message: '$property must be a duration such as "60s", "1h" or milliseconds',
};
export const BYTES = { message: '$property must be a byte size such as 1048576 or "1mb"' };
