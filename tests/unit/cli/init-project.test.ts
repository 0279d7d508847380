import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { initProject } from '../../../runtime/cli/init-project.ts'

const INSTALL = { version: '1.2.3', typescript: '^7.0.2' }
const folder = () => mkdtempSync(join(tmpdir(), 'forge-init-'))
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8')

describe('forge init', () => {
  it('scaffolds a new folder: package.json, tsconfig, dags/ with an example importing adas-forge, .gitignore', () => {
    const dir = join(folder(), 'My Dags')
    const r = initProject(dir, INSTALL)
    expect(r.created).toEqual(['package.json', 'tsconfig.json', 'dags/package.json', 'dags/example.dag.ts', '.gitignore'])
    const pkg = JSON.parse(read(dir, 'package.json'))
    expect(pkg).toMatchObject({
      name: 'my-dags',
      type: 'module',
      dependencies: { 'adas-forge': '^1.2.3' },
      devDependencies: { typescript: '^7.0.2' },
    })
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['dags', 'test', 'scheduler']))
    expect(JSON.parse(read(dir, 'tsconfig.json')).include).toEqual(['dags'])
    expect(JSON.parse(read(dir, 'dags/package.json'))).toEqual({ type: 'module' })
    expect(read(dir, 'dags/example.dag.ts')).toContain("from 'adas-forge'")
    expect(read(dir, '.gitignore').split('\n')).toEqual(expect.arrayContaining(['.forge/', 'node_modules/']))
    expect(r.needsTypescript).toBe(false)
  })

  it('refuses when a file it would create exists, names every such file, and writes nothing', () => {
    const dir = folder()
    mkdirSync(join(dir, 'dags'))
    writeFileSync(join(dir, 'tsconfig.json'), '{"mine": true}')
    writeFileSync(join(dir, 'dags/example.dag.ts'), '// mine')
    expect(() => initProject(dir, INSTALL)).toThrow(/init wrote nothing: .*tsconfig\.json, .*dags\/example\.dag\.ts already exist/)
    expect(read(dir, 'tsconfig.json')).toBe('{"mine": true}')
    expect(read(dir, 'dags/example.dag.ts')).toBe('// mine')
    expect(existsSync(join(dir, 'package.json'))).toBe(false)
    expect(existsSync(join(dir, 'dags/package.json'))).toBe(false)
    expect(existsSync(join(dir, '.gitignore'))).toBe(false)
  })

  it("adds missing scripts to an existing package.json (npm init's placeholder test included) and keeps the rest", () => {
    const dir = folder()
    const mine = {
      name: 'mine',
      version: '9.0.0',
      type: 'commonjs',
      scripts: { test: 'echo "Error: no test specified" && exit 1', dags: 'my own' },
      dependencies: { 'adas-forge': 'file:x.tgz' },
    }
    writeFileSync(join(dir, 'package.json'), JSON.stringify(mine))
    writeFileSync(join(dir, '.gitignore'), 'dist\nnode_modules')
    const r = initProject(dir, INSTALL)
    expect(r.updated).toEqual(['package.json', '.gitignore'])
    const pkg = JSON.parse(read(dir, 'package.json'))
    expect(pkg).toMatchObject({ name: 'mine', version: '9.0.0', type: 'commonjs', dependencies: { 'adas-forge': 'file:x.tgz' } })
    expect(pkg.scripts).toEqual({ test: 'forge dags test example', dags: 'my own', scheduler: 'forge scheduler', typecheck: 'tsc --noEmit -p .' })
    expect(read(dir, '.gitignore')).toBe('dist\nnode_modules\n.forge/\n')
    expect(r.needsTypescript).toBe(true)
  })

  it('refuses a package.json that is not JSON, naming it', () => {
    const dir = folder()
    writeFileSync(join(dir, 'package.json'), '{ nope')
    expect(() => initProject(dir, INSTALL)).toThrow(`${join(dir, 'package.json')} is not valid JSON`)
    expect(existsSync(join(dir, 'tsconfig.json'))).toBe(false)
  })
})
