/** The DVC plugin: `forge dvc add PATH [--repo DIR] …`, the native DVC 3 writer behind a command. */
import { definePlugin } from '../../runtime/operator.ts'
import { registerDvcCommands } from './cli.ts'

export default definePlugin({
  name: 'dvc',
  commands(program) {
    registerDvcCommands(program)
  },
})
