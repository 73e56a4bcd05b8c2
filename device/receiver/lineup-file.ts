/**
 * Reading a line-up from a JSON file — what the simulator (which service is on which carrier) and the
 * on-site CLI (`tune cctv1`) need before the agent's own line-up store exists. Accepts a bare
 * `ServiceTuning[]` or a line-up document `{services: [...]}`; every problem is listed (STYLE.md §6).
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { ServiceTuning } from '../../protocol/messages/tuning.js';

const ServiceList = z.array(ServiceTuning).min(1);
const LineupDocument = z.looseObject({ services: ServiceList });

/** Read and JSON-parse a file, with a message that names the file and what it was for. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${what} ${path} is not valid JSON: ${(err as Error).message}`);
  }
}

/** Load a line-up file; throws an Error listing every invalid field. */
export async function loadLineup(path: string): Promise<ServiceTuning[]> {
  const json = await readJsonFile(path, 'line-up');
  // Chosen by shape rather than a zod union, so the errors name the fields of the form actually used.
  const parsed = Array.isArray(json) ? ServiceList.safeParse(json) : LineupDocument.safeParse(json);
  if (!parsed.success) throw new Error(`line-up ${path} is invalid:\n${z.prettifyError(parsed.error)}`);
  return Array.isArray(parsed.data) ? parsed.data : parsed.data.services;
}
