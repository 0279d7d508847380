import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { ConfigError } from '../../../runtime/errors.ts'
import { findDagFiles } from '../../../runtime/processor/find-dag-files.ts'

describe('findDagFiles', () => {
  it('names a DAGs folder that does not exist, or is a file, instead of failing with ENOENT', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'forge-find-'))
    try {
      const missing = join(dir, 'dags')
      await expect(findDagFiles(missing)).rejects.toThrow(
        new ConfigError(`the DAGs folder ${missing} does not exist or is not a folder (set FORGE_DAGS_FOLDER, or run in a project with dags/)`),
      )
      writeFileSync(missing, '')
      await expect(findDagFiles(missing)).rejects.toBeInstanceOf(ConfigError)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
