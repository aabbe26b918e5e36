/**
 * What a boot configuration boots. The same fields travel on the configuration, on each of its
 * bindings, on a node's resolution and in the agent's snapshot, so they are declared once here.
 */
export interface BootPayload {
  imageId: string | null;
  /** sha256 (hex) of the kernel artifact. */
  kernel: string;
  initrd: string | null;
  rootfs: string | null;
  kernelParameters: string;
  rootfsProvider: 'HTTP' | 'ISCSI' | null;
}
