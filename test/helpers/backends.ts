// Runs a suite against the addon (its best kernel) and the TypeScript twin.
// Caches and senders created while 'js' is the kernel live in the twin.
import { kernel, kernels, native, useKernel } from '../../lib';

export function eachBackend(fn: (name: 'native' | 'twin') => void): void {
  const names: ('native' | 'twin')[] = native ? ['native', 'twin'] : ['twin'];
  describe.each(names)('%s', (name) => {
    let before: string;
    beforeAll(() => {
      before = kernel();
      useKernel(name === 'native' ? kernels()[0] : 'js');
    });
    afterAll(() => useKernel(before));
    fn(name);
  });
}
