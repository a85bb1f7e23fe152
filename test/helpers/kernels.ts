// Runs a suite once per kernel this machine can run (the addon's and 'js').
import { kernels, kernel, useKernel } from '../../lib';

export function eachKernel(fn: (name: string) => void): void {
  describe.each(kernels())('kernel %s', (name) => {
    let before: string;
    beforeAll(() => {
      before = kernel();
      useKernel(name);
    });
    afterAll(() => useKernel(before));
    fn(name);
  });
}
