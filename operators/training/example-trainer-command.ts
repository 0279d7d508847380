/**
 * The argv that runs the example trainer (an example, not a detector) with this Node and the tsx loader, with
 * the placeholders `trainModel` fills in: the pulled folder, the output folder and the version tag.
 */
import { fileURLToPath } from 'node:url'

export function exampleTrainerCommand(): string[] {
  // tsx resolved from here, so the trainer starts whatever the working folder is.
  const loader = import.meta.resolve('tsx')
  const script = fileURLToPath(new URL('./example-trainer.ts', import.meta.url))
  return [process.execPath, '--import', loader, script, '--dataset', '{dataset}', '--output', '{output}', '--tag', '{tag}']
}
