/**
 * Debian's `ipxe` package puts its binaries in /usr/lib/ipxe, but ipxe.efi and ipxe.lkrn
 * there are symlinks into /boot. The TFTP server serves such a root as it is: a link in the
 * root to a regular file under one of these directories allows exactly that file (see
 * `tftpRootPolicy` in paths.ts); files elsewhere are copied into the root, not linked.
 */
export const DEBIAN_IPXE_DIR = '/usr/lib/ipxe';

/** Where Debian's iPXE links point; the only directories a TFTP root's links may leave for. */
export const IPXE_LINK_TARGET_DIRS: readonly string[] = ['/boot'];
