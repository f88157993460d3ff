// The device a model or parameter buffer uses when none is given (torch.set_default_device).
import { cpuDevice } from './cpu';
import { cudaDevice } from './cuda';
import { DEVICE_OPS, type Device } from './device';

/** What a `device` option accepts. */
export type DeviceOption = Device | 'cpu' | 'cuda';

let current: Device | null = null;

/** The device new models use when their options name none (the CPU device unless set). */
export function defaultDevice(): Device {
  return current ?? cpuDevice();
}

/** Whether v implements the device contract (its name, memory and every op). */
function isDevice(v: unknown): v is Device {
  if (v === null || typeof v !== 'object') return false;
  const d = v as Record<string, unknown>;
  return (
    typeof d.name === 'string' &&
    ['alloc', 'fromHost', 'toHost', 'toHostSync', 'write', 'view', 'fill', 'copy', 'free'].every(
      (k) => typeof d[k] === 'function',
    ) &&
    DEVICE_OPS.every((k) => typeof d[k] === 'function')
  );
}

function shown(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an Array' : typeof v === 'string' ? `string "${v}"` : typeof v;
}

/**
 * A `device` option: a Device, 'cpu' or 'cuda' (the process-wide device of that name; 'cuda'
 * throws, saying why, where no GPU is usable), or undefined for the default.
 */
export function resolveDevice(what: string, device: unknown): Device {
  if (device === undefined) return defaultDevice();
  if (device === 'cpu') return cpuDevice();
  if (device === 'cuda') {
    try {
      return cudaDevice() as unknown as Device;
    } catch (e) {
      throw new Error(`${what}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  if (!isDevice(device))
    throw new TypeError(
      `${what}: device must be a Device (cpuDevice(), cudaDevice()) or 'cpu' or 'cuda', received ${shown(device)}`,
    );
  return device;
}

/** Sets the device new models use by default; null restores the CPU device. */
export function setDefaultDevice(device: Device | 'cpu' | 'cuda' | null): void {
  if (device === null) current = null;
  else current = resolveDevice('setDefaultDevice', device);
}

/** The options of a load: an object (or nothing) whose `device` places the model. */
export function loadDevice(what: string, options: unknown): Device {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options)))
    throw new TypeError(`${what}: options must be an object such as { device }, received ${shown(options)}`);
  const o = (options ?? {}) as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (k !== 'device') throw new RangeError(`${what}: unknown option '${k}'; known options: device`);
  return resolveDevice(what, o.device);
}
