import AjvModule, { type ErrorObject, type ValidateFunction } from 'ajv';
import { ErrorUri, RouterError } from '../router/errors.js';
import { isPlainObject } from '../retained/retained-value.js';
import type { Row } from './row-key.js';

// ajv is CommonJS with a `default` property; under `nodenext` TypeScript types the default import as the
// module object, so the class is its `default` (as for sift in retained-value.ts).
const Ajv = AjvModule.default;
type AjvInstance = InstanceType<typeof Ajv>;

/** One validation problem: where in the row (a JSON Pointer, `''` for the row itself) and what is wrong. */
export interface RowProblem {
  readonly path: string;
  readonly message: string;
}

/** Checks rows of one `type: object` table against its JSON Schema. */
export class RowValidator {
  constructor(
    private readonly table: string,
    private readonly check: ValidateFunction,
  ) {}

  /**
   * Returns the row when it is valid; otherwise throws an invalid argument whose message lists every
   * problem and whose kwargs carry them as `{ table, errors: [{ path, message }] }`.
   */
  validate(row: unknown): Row {
    if (!isPlainObject(row)) {
      throw new RouterError(ErrorUri.invalidArgument, `${this.table} row must be an object; got ${JSON.stringify(row)}`);
    }
    if (this.check(row)) return row;
    const errors = (this.check.errors ?? []).map(problemOf);
    const message = `invalid ${this.table} row: ${errors.map((error) => `${error.path || 'row'} ${error.message}`).join('; ')}`;
    throw new RouterError(ErrorUri.invalidArgument, message, { args: [message], kwargs: { table: this.table, errors } });
  }
}

function problemOf(error: ErrorObject): RowProblem {
  const params = error.params as { additionalProperty?: string };
  const message = error.message ?? `fails ${error.keyword}`;
  // ajv says "must NOT have additional properties" without naming the one it found.
  const detail = params.additionalProperty === undefined ? '' : ` (${JSON.stringify(params.additionalProperty)})`;
  return { path: error.instancePath, message: message + detail };
}

/** Compiles the row schemas of one information schema (one ajv instance, so compiled code is shared). */
export class RowValidatorCompiler {
  // allErrors: report every problem of a row at once. strict: an unknown keyword (a typo) or format is a
  // schema error rather than silently ignored; strictTypes/strictTuples would only warn on the console.
  private readonly ajv: AjvInstance = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false });

  /** Throws ajv's message when `schema` is not a schema ajv can compile. */
  compile(table: string, schema: Record<string, unknown>): RowValidator {
    return new RowValidator(table, this.ajv.compile(schema));
  }
}
