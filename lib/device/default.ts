// The device a model or parameter buffer uses when none is given (torch.set_default_device).
import { cpuDevice } from './cpu';
import type { Device } from './device';

let current: Device | null = null;

/** The device new models use when their options name none (the CPU device unless set). */
export function defaultDevice(): Device {
  return current ?? cpuDevice();
}

/** Sets the device new models use by default; null restores the CPU device. */
export function setDefaultDevice(device: Device | null): void {
  if (
    device !== null &&
    (typeof device !== 'object' || typeof device.alloc !== 'function' || typeof device.name !== 'string')
  ) {
    throw new TypeError(
      `setDefaultDevice: expected a Device or null, received ${device === undefined ? 'undefined' : typeof device}`,
    );
  }
  current = device;
}
