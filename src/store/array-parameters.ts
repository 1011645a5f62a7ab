/** One column a statement passes as an array parameter: its name, its PostgreSQL element type, how a row gives its value. */
export interface ArrayColumn<R> {
  readonly column: string;
  readonly type: string;
  readonly value: (row: R) => unknown;
}

/** Writes `unnest($n::type[], …)` over these columns of the rows `rows` picks from the statement's input. */
export type Unnest<W> = <R>(rows: (input: W) => readonly R[], columns: readonly ArrayColumn<R>[]) => string;

/** A statement's text and how its parameter array is made from its input. */
export interface ArrayStatement<W> {
  readonly text: string;
  values(input: W): unknown[];
}

/**
 * A statement that passes rows as one array per column (`unnest($1::text[], $2::date[])`): `build`
 * writes the text, asking `unnest` for each row set's placeholders, numbered in the order asked for;
 * the parameter array comes out of the same column lists, so placeholders and parameters cannot drift
 * apart, and adding a column is one line. Build it once (module level): the text is then the same for
 * every call, as a prepared statement needs.
 */
export function arrayStatement<W>(build: (unnest: Unnest<W>) => string): ArrayStatement<W> {
  const parameters: ((input: W) => unknown[])[] = [];
  const unnest: Unnest<W> = (rows, columns) => {
    const placeholders = columns.map((column) => {
      parameters.push((input) => rows(input).map(column.value));
      return `$${parameters.length}::${column.type}[]`;
    });
    return `unnest(${placeholders.join(', ')})`;
  };
  const text = build(unnest);
  const fixed = [...parameters];
  return { text, values: (input) => fixed.map((parameter) => parameter(input)) };
}

/** The columns' names, comma-separated, in their order (an INSERT's column list, an alias list). */
export const columnNames = (columns: readonly { readonly column: string }[]): string =>
  columns.map((c) => c.column).join(', ');
