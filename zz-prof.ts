import { spawn } from 'node:child_process'
import os from 'node:os'
import { mkdtemp, rm } from 'node:fs/promises'
import path from 'node:path'
import { generateShard } from './operators/carla/generate/carla-generate.ts'
const code = `const m = await import('./operators/carla/lite/index.ts'); const s = await m.startCarlaLite({ port: 0 });
const t0 = process.cpuUsage();
process.stdout.write(JSON.stringify({ rpcPort: s.rpcPort, streamPort: s.streamPort, tmPort: s.tmPort }) + '\\n');
process.on('SIGTERM', () => { const u = process.cpuUsage(t0); console.error('server cpu ms', (u.user+u.system)/1000, JSON.stringify(s.renderStats())); s.close().finally(() => process.exit(0)) });`
const child = spawn(process.execPath, ['--cpu-prof', '--cpu-prof-dir=/tmp/prof', '--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
const ports = await new Promise<any>((res) => child.stdout.on('data', (d) => res(JSON.parse(String(d).split('\n')[0]))))
const outDir = await mkdtemp(path.join('/dev/shm', 'zz-'))
const cam = { name: 'rgb', blueprint: 'sensor.camera.rgb', attributes: { image_size_x: 1280, image_size_y: 720, fov: 90 }, transform: { location: { x: 1.5, y: 0, z: 2.4 }, rotation: { pitch: 0, yaw: 0, roll: 0 } } }
const t0 = performance.now()
const r = await generateShard({ scenario: { map: '/Game/Carla/Maps/Town01', weather: 'ClearNoon', sensors: [cam], npcs: { vehicles: 20, pedestrians: 10 }, frames: 300, warmupTicks: 3, format: 'raw', seed: 1 } as any, host: '127.0.0.1', port: ports.rpcPort, tmPort: ports.tmPort, outDir })
const ms = performance.now() - t0
console.log('frames', r.frames, 'fps', (r.frames / (ms / 1000)).toFixed(1), 'client cpu', JSON.stringify(process.cpuUsage()))
await rm(outDir, { recursive: true, force: true })
await new Promise((res) => { child.once('exit', res); child.kill('SIGTERM') })
