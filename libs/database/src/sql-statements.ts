import { parse } from 'libpg-query';

/**
 * The statements of a SQL text, each as its own text, cut where PostgreSQL's own parser
 * (libpg_query) says they begin and end: dollar-quoted function bodies, nested comments and
 * string escapes need a real lexer. The parser's offsets count bytes of UTF-8, not characters.
 */
export async function splitStatements(sql: string): Promise<string[]> {
  const bytes = Buffer.from(sql, 'utf8');
  const { stmts = [] } = await parse(sql);
  return stmts
    .map((statement) => {
      const start = statement.stmt_location ?? 0;
      // A length of 0 means "to the end of the text".
      const end = statement.stmt_len ? start + statement.stmt_len : bytes.length;
      return bytes.subarray(start, end).toString('utf8').trim();
    })
    .filter((statement) => statement.length > 0);
}
