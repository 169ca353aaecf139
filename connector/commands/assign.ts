/**
 * `smart-segments assign --model model.json --input customers.csv [--json]`: applies a fitted model to
 * customers (nearest centre, the model's scaler and imputation medians) and prints one line per customer.
 */
import { ModelError, assignWithReport, parseModel } from '../../src/assign.js';
import type { Model } from '../../src/types.js';
import { UsageError, stringFlag } from '../args.js';
import type { CliIo, ParsedArgs } from '../args.js';
import { assignJson, formatAssignReport } from '../report.js';
import { CommandError, parseJsonText, readCustomers, readText } from './fit.js';

export const usage = `Usage: smart-segments assign --model model.json --input customers.csv|snapshot.json [--json]

Assigns each customer to the nearest segment of a model written by "smart-segments fit --out".
Customers without orders in the window go to "no_recent_orders"; missing values are imputed with the
model's medians (flagged). Prints a table, or one JSON object with --json.
`;

export const flagSpec = { values: ['model', 'input'], booleans: ['json'] } as const;

/** Reads and validates a model file; problems are CommandErrors naming the file (and line/column or JSON path). */
export async function readModel(io: CliIo, path: string): Promise<Model> {
  const json = parseJsonText(await readText(io, path), path);
  try {
    return parseModel(json);
  } catch (error) {
    if (error instanceof ModelError) throw new CommandError(`${path}: not a Smart Segments model: ${error.message}`);
    throw error;
  }
}

export async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.flags['help'] === true) {
    io.stdout(usage);
    return 0;
  }
  const modelPath = stringFlag(args, 'model');
  const input = stringFlag(args, 'input');
  if (modelPath === undefined) throw new UsageError('--model model.json is required');
  if (input === undefined) throw new UsageError('--input customers.csv is required');
  if (args.positionals.length > 0) throw new UsageError(`unexpected argument "${args.positionals[0]}"`);
  const model = await readModel(io, modelPath);
  const table = await readCustomers(io, input, model.features);
  const report = assignWithReport(model, table);
  if (args.flags['json'] === true) io.stdout(JSON.stringify(assignJson(model, report, input)) + '\n');
  else io.stdout(formatAssignReport(model, report, input));
  return 0;
}
