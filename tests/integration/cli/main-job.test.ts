import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const FORGE = fileURLToPath(new URL('../../../runtime/cli/forge.mjs', import.meta.url))
const DAGS = fileURLToPath(new URL('../../../dags/', import.meta.url))

describe('the main job (`npm start`)', () => {
  it('builds the dataset on embedded defaults and ends with a summary', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'forge-main-'))
    const env = { ...process.env, FORGE_HOME: join(cwd, '.forge'), FORGE_DAGS_FOLDER: DAGS, FORGE_LOG_LEVEL: 'warn' } as Record<string, string>
    delete env.FORGE_DATABASE_URL
    const r = await promisify(execFile)(process.execPath, [FORGE, 'main'], { cwd, env, timeout: 180_000 })
    expect(r.stdout).toMatch(/run: +manual__\S+ — success/)
    // plan, 4 × simulate, augment, summary
    expect(r.stdout).toMatch(/tasks: +10 success\n/)
    // The dataset version, then the training run it started, and the lineage commands to run next.
    expect(r.stdout).toMatch(/dataset: +carla_nightly@v1\n/)
    expect(r.stdout).toMatch(/== train_on_new_dataset \(started by dataset:\/\/carla_nightly v1\) ==\nrun: +dataset_triggered__\S+ — success/)
    expect(r.stdout).toMatch(/lineage: forge lineage model carla-prior\/local-[0-9a-f]{12}\n/)
    expect(existsSync(join(cwd, '.forge', 'registry', 'carla_nightly.dvc'))).toBe(true)
    expect(r.stdout).toMatch(/frames: +160\n/)
    expect(r.stdout).toMatch(/shards: +4\n/)
    expect(r.stdout).toMatch(/augmentedFrames: +160\n/)
    expect(r.stdout).toMatch(/s3: +skipped \(no S3 remote configured\)\n/)
    expect(r.stdout).toMatch(/mlflow: +skipped \(/)
    const runDir = readdirSync(join(cwd, 'datasets'))[0]!
    const shards = ['Town01__ClearNoon__seed7', 'Town01__WetCloudySunset__seed7', 'Town03__ClearNoon__seed7', 'Town03__WetCloudySunset__seed7']
    expect(readdirSync(join(cwd, 'datasets', runDir)).sort()).toEqual([...shards, 'augmented'])
    expect(readdirSync(join(cwd, 'datasets', runDir, 'augmented')).sort()).toEqual(shards)
    for (const s of shards) {
      for (const dir of [join(cwd, 'datasets', runDir, s), join(cwd, 'datasets', runDir, 'augmented', s)]) {
        expect(readdirSync(join(dir, 'frames', 'rgb'))).toHaveLength(40)
        expect(existsSync(join(dir, 'labels', 'coco.json'))).toBe(true)
        expect(existsSync(join(dir, 'manifest.json'))).toBe(true)
      }
    }
  }, 200_000)
})
