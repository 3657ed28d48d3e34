import { describe, expect, it } from 'vitest';
import { buildArguments, fieldsFromSchema, initialValues } from './schema-form';

const schema = {
  type: 'object',
  properties: {
    note: { type: 'string', description: 'Free text' },
    text: { type: 'string', title: 'Text' },
    count: { type: 'integer', minimum: 1, maximum: 10, default: 3 },
    ratio: { type: 'number' },
    loud: { type: 'boolean' },
    mode: { type: 'string', enum: ['fast', 'slow'] },
    level: { enum: [1, 2, 3] },
    extra: { type: 'object' },
  },
  required: ['text', 'mode'],
};

describe('fieldsFromSchema', () => {
  it('makes one field per property, required first, with kinds, labels and options', () => {
    const fields = fieldsFromSchema(schema);
    expect(fields.map((f) => [f.name, f.kind, f.required])).toEqual([
      ['text', 'string', true],
      ['mode', 'enum', true],
      ['note', 'string', false],
      ['count', 'integer', false],
      ['ratio', 'number', false],
      ['loud', 'boolean', false],
      ['level', 'enum', false],
      ['extra', 'json', false],
    ]);
    expect(fields[0].label).toBe('Text');
    expect(fields[1].options).toEqual(['fast', 'slow']);
    expect(fields[2].description).toBe('Free text');
  });

  it('returns no field for a schema without properties', () => {
    expect(fieldsFromSchema({ type: 'object' })).toEqual([]);
    expect(fieldsFromSchema(undefined)).toEqual([]);
  });

  it('starts from the defaults: text for inputs, false for checkboxes', () => {
    expect(initialValues(fieldsFromSchema(schema))).toMatchObject({
      text: '',
      count: '3',
      loud: false,
    });
  });
});

describe('buildArguments', () => {
  const fields = fieldsFromSchema(schema);

  it('types the values and leaves empty optional fields out', () => {
    const built = buildArguments(fields, {
      text: 'hi',
      mode: 'slow',
      count: '4',
      ratio: '0.5',
      loud: true,
      level: '2',
      extra: '{"a":1}',
      note: '',
    });
    expect(built.errors).toEqual({});
    expect(built.arguments).toEqual({
      text: 'hi',
      mode: 'slow',
      count: 4,
      ratio: 0.5,
      loud: true,
      level: 2,
      extra: { a: 1 },
    });
  });

  it('marks missing required fields and malformed values', () => {
    const built = buildArguments(fields, {
      text: ' ',
      mode: '',
      count: '2.5',
      ratio: 'abc',
      extra: '{',
      level: '9',
    });
    expect(built.errors).toEqual({
      text: 'Required',
      mode: 'Required',
      count: 'Enter a whole number',
      ratio: 'Enter a number',
      extra: 'Enter valid JSON',
      level: 'Pick one of the options',
    });
  });

  it('enforces minimum and maximum', () => {
    expect(buildArguments(fields, { text: 'a', mode: 'fast', count: '11' }).errors).toEqual({
      count: 'At most 10',
    });
    expect(buildArguments(fields, { text: 'a', mode: 'fast', count: '0' }).errors).toEqual({
      count: 'At least 1',
    });
  });
});
