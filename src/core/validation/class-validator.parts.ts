import { createRequire } from 'node:module';
import type * as ClassValidator from 'class-validator';

/**
 * The parts of class-validator the gateway uses, each required from its own file. The package's
 * index loads every decorator it has, and with them all of validator.js and libphonenumber-js
 * (about 320 modules, 100+ ms of a cold start) for the dozen constraints we use. The metadata
 * storage is a process-wide singleton, so a host's params classes decorated through the index
 * land in the same storage. Import decorators from here, not from 'class-validator'.
 */
const load = createRequire(import.meta.url);
const part = <T>(file: string): T => load(`class-validator/cjs/${file}.js`) as T;

type Parts = typeof ClassValidator;

export const { IsArray } = part<Pick<Parts, 'IsArray'>>('decorator/typechecker/IsArray');
export const { IsBoolean } = part<Pick<Parts, 'IsBoolean'>>('decorator/typechecker/IsBoolean');
export const { IsIn } = part<Pick<Parts, 'IsIn'>>('decorator/common/IsIn');
export const { IsInt } = part<Pick<Parts, 'IsInt'>>('decorator/typechecker/IsInt');
export const { IsNotEmpty } = part<Pick<Parts, 'IsNotEmpty'>>('decorator/common/IsNotEmpty');
export const { IsNumber } = part<Pick<Parts, 'IsNumber'>>('decorator/typechecker/IsNumber');
export const { IsObject } = part<Pick<Parts, 'IsObject'>>('decorator/typechecker/IsObject');
export const { IsOptional } = part<Pick<Parts, 'IsOptional'>>('decorator/common/IsOptional');
export const { IsString } = part<Pick<Parts, 'IsString'>>('decorator/typechecker/IsString');
export const { Matches } = part<Pick<Parts, 'Matches'>>('decorator/string/Matches');
export const { Max } = part<Pick<Parts, 'Max'>>('decorator/number/Max');
export const { MaxLength } = part<Pick<Parts, 'MaxLength'>>('decorator/string/MaxLength');
export const { Min } = part<Pick<Parts, 'Min'>>('decorator/number/Min');
export const { MinLength } = part<Pick<Parts, 'MinLength'>>('decorator/string/MinLength');
export const { ValidateBy } = part<Pick<Parts, 'ValidateBy'>>('decorator/common/ValidateBy');
export const { ValidateIf } = part<Pick<Parts, 'ValidateIf'>>('decorator/common/ValidateIf');
export const { ValidateNested } = part<Pick<Parts, 'ValidateNested'>>(
  'decorator/common/ValidateNested',
);
export const { getMetadataStorage } = part<Pick<Parts, 'getMetadataStorage'>>(
  'metadata/MetadataStorage',
);
export const { ValidationTypes } = part<Pick<Parts, 'ValidationTypes'>>(
  'validation/ValidationTypes',
);
const { Validator } = part<Pick<Parts, 'Validator'>>('validation/Validator');
const validator = new Validator();

/** class-validator's validateSync (its index runs it on a Validator from its container). */
export function validateSync(
  object: object,
  options?: ClassValidator.ValidatorOptions,
): ClassValidator.ValidationError[] {
  return validator.validateSync(object, options);
}
