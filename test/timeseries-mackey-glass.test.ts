// The Mackey–Glass generator: the equation as documented, and clear errors.
import { describe, expect, it } from 'vitest';
import { mackeyGlass } from '../lib';

describe('mackeyGlass', () => {
  it('integrates dx/dt = 0.2 x(t-17)/(1+x(t-17)^10) - 0.1 x(t) by Euler steps of 0.1, sampled every 1', () => {
    const s = mackeyGlass({ length: 1200 });
    expect(s).toHaveLength(1200);
    expect(s[0]).toBe(1.2);
    // a plain re-implementation of the documented recurrence
    const x = [1.2];
    for (let i = 0; i < 1199 * 10; i++) {
      const d = i >= 170 ? x[i - 170] : 0;
      x.push(x[i] + 0.1 * ((0.2 * d) / (1 + d ** 10) - 0.1 * x[i]));
    }
    for (let k = 0; k < 1200; k++) expect(s[k]).toBe(x[k * 10]);
    // the chaotic attractor of tau = 17 stays in about (0.2, 1.4) once past the transient
    const tail = Array.from(s.subarray(300));
    expect(Math.min(...tail)).toBeGreaterThan(0.2);
    expect(Math.max(...tail)).toBeLessThan(1.45);
  });

  it('refuses bad options by name', () => {
    expect(() => mackeyGlass({ length: 0 })).toThrow(
      /mackeyGlass: length must be an integer in \[1, 10000000\], received 0/,
    );
    expect(() => mackeyGlass({ length: 10, tau: 17.05 })).toThrow(
      /tau \(17.05\) and sampleEvery \(1\) must be whole multiples of dt/,
    );
    expect(() => mackeyGlass({ length: 10, dt: -1 })).toThrow(/dt must be a finite number > 0, received -1/);
    expect(() => mackeyGlass({ length: 10, lenght: 5 } as never)).toThrow(/unknown option 'lenght'/);
    expect(() => mackeyGlass(null as never)).toThrow(/options must be an object/);
  });
});
