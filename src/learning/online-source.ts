/**
 * Where the learning threads get their ExampleSource. The stream of labelled examples is built in
 * src/events/ by another part of the engine; the threads reach it only through a module that exports
 *
 *   createExampleSource(dataDir: string): ExampleSource | Promise<ExampleSource>
 *
 * imported lazily, so the trainer and the manager build and run before that module exists (they idle, or
 * skip the quality gate, and say so). Tests point the threads at their own module instead.
 *
 * Optional extras a source may have, used when present: close() (called when the thread stops) and
 * latestSeq() (lets the manager start its held-out window near the end of a long stream).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ExampleSource } from './labelled-example.js';

export type ExampleSourceFactory = (dataDir: string) => ExampleSource | Promise<ExampleSource>;

export interface ExampleSourceExtras {
  close?: () => void | Promise<void>;
  latestSeq?: () => number;
}

/** dist/src/events/example-source.js, next to this module's compiled location. */
export const DEFAULT_EXAMPLE_SOURCE_MODULE = new URL('../events/example-source.js', import.meta.url).href;

/** The factory exported by `module` (a path or file URL), or null when the module file does not exist. */
export async function loadExampleSourceFactory(module: string = DEFAULT_EXAMPLE_SOURCE_MODULE): Promise<ExampleSourceFactory | null> {
  const url = module.startsWith('file:') ? module : pathToFileURL(module).href;
  if (!existsSync(fileURLToPath(url))) return null;
  const mod = (await import(url)) as { createExampleSource?: unknown };
  if (typeof mod.createExampleSource !== 'function') throw new Error(`${url} does not export createExampleSource(dataDir)`);
  return mod.createExampleSource as ExampleSourceFactory;
}

export async function closeSource(source: ExampleSource | null): Promise<void> {
  const close = (source as (ExampleSource & ExampleSourceExtras) | null)?.close;
  if (typeof close === 'function') await close.call(source);
}
