// TypeScript/JavaScript front-end: ts-morph, one source file at a time, no type-check.
// The project is in memory, so parsing never reads the disk and never resolves imports.

import type { Project, SourceFile } from 'ts-morph';
import { loadTsMorph } from './ts-morph.js';

let project: Project | undefined;
let counter = 0;

function scriptKind(path: string): import('ts-morph').ScriptKind {
  const { ScriptKind } = loadTsMorph();
  if (/\.tsx$/i.test(path)) return ScriptKind.TSX;
  if (/\.jsx$/i.test(path)) return ScriptKind.JSX;
  if (/\.[mc]?js$/i.test(path)) return ScriptKind.JS;
  return ScriptKind.TS;
}

/** Parse one file. Each call gets its own virtual path, so base and head never collide. */
export function parseTypeScript(path: string, text: string): SourceFile {
  project ??= new (loadTsMorph().Project)({
    useInMemoryFileSystem: true,
    skipFileDependencyResolution: true,
    compilerOptions: { allowJs: true, noResolve: true, noLib: true },
  });
  counter += 1;
  return project.createSourceFile(`/v${counter}/${path}`, text, { overwrite: true, scriptKind: scriptKind(path) });
}

/** Drop a parsed file from the shared in-memory project. */
export function forgetTypeScript(file: SourceFile): void {
  if (!file.wasForgotten()) project?.removeSourceFile(file);
}
