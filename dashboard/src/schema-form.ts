/** Turns a tool's JSON Schema into form fields, and the form's text values back into arguments. */

export type FieldKind = 'string' | 'number' | 'integer' | 'boolean' | 'enum' | 'json';

export interface FormField {
  name: string;
  kind: FieldKind;
  label: string;
  required: boolean;
  description?: string;
  options?: Array<string | number | boolean>;
  defaultValue?: unknown;
  minimum?: number;
  maximum?: number;
}

interface JsonSchemaLike {
  type?: string | string[];
  title?: string;
  description?: string;
  enum?: Array<string | number | boolean>;
  default?: unknown;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, JsonSchemaLike>;
  required?: string[];
}

function kindOf(schema: JsonSchemaLike): FieldKind {
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return 'enum';
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type) {
    case 'string':
    case 'number':
    case 'integer':
    case 'boolean':
      return type;
    default:
      // Objects, arrays and untyped values are edited as JSON text.
      return 'json';
  }
}

/** One field per top-level property, required ones first, in schema order otherwise. */
export function fieldsFromSchema(schema: unknown): FormField[] {
  const root = (schema ?? {}) as JsonSchemaLike;
  const required = new Set(root.required ?? []);
  const fields = Object.entries(root.properties ?? {}).map(([name, property]): FormField => {
    const field: FormField = {
      name,
      kind: kindOf(property),
      label: property.title ?? name,
      required: required.has(name),
    };
    if (property.description) field.description = property.description;
    if (property.enum) field.options = property.enum;
    if (property.default !== undefined) field.defaultValue = property.default;
    if (property.minimum !== undefined) field.minimum = property.minimum;
    if (property.maximum !== undefined) field.maximum = property.maximum;
    return field;
  });
  return [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
}

/** What the form holds: text for inputs, a boolean for checkboxes. */
export type FormValues = Record<string, string | boolean | undefined>;

export function initialValues(fields: FormField[]): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    if (field.kind === 'boolean') values[field.name] = field.defaultValue === true;
    else if (field.defaultValue === undefined) values[field.name] = '';
    else if (typeof field.defaultValue === 'string') values[field.name] = field.defaultValue;
    // Numbers, booleans and JSON values: their JSON text is what the input shows.
    else values[field.name] = JSON.stringify(field.defaultValue);
  }
  return values;
}

export interface BuiltArguments {
  arguments: Record<string, unknown>;
  /** Field name to message; empty when the arguments can be sent. */
  errors: Record<string, string>;
}

/** Converts form values to typed arguments; empty optional fields are left out. */
export function buildArguments(fields: FormField[], values: FormValues): BuiltArguments {
  const args: Record<string, unknown> = {};
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const raw = values[field.name];
    if (field.kind === 'boolean') {
      args[field.name] = raw === true;
      continue;
    }
    const text = typeof raw === 'string' ? raw : '';
    if (text.trim() === '') {
      if (field.required) errors[field.name] = 'Required';
      continue;
    }
    const value = parseValue(field, text);
    if (value.error) errors[field.name] = value.error;
    else args[field.name] = value.value;
  }
  return { arguments: args, errors };
}

function parseValue(field: FormField, text: string): { value?: unknown; error?: string } {
  switch (field.kind) {
    case 'string':
      return { value: text };
    case 'number':
    case 'integer': {
      const number = Number(text);
      if (!Number.isFinite(number)) return { error: 'Enter a number' };
      if (field.kind === 'integer' && !Number.isInteger(number)) {
        return { error: 'Enter a whole number' };
      }
      if (field.minimum !== undefined && number < field.minimum) {
        return { error: `At least ${field.minimum}` };
      }
      if (field.maximum !== undefined && number > field.maximum) {
        return { error: `At most ${field.maximum}` };
      }
      return { value: number };
    }
    case 'enum': {
      const option = field.options?.find((candidate) => String(candidate) === text);
      return option === undefined ? { error: 'Pick one of the options' } : { value: option };
    }
    case 'json':
      try {
        return { value: JSON.parse(text) as unknown };
      } catch {
        return { error: 'Enter valid JSON' };
      }
    case 'boolean':
      return { value: text === 'true' };
  }
}
