/**
 * The stored CloudInit item's decoder, in a file of its own: the sites domain reads these items
 * for the snapshot and should not bundle the boot domain's write path to do so.
 */
import { anyMap, nullable, object, storedDecoder, str } from '../shared/storedItem.js';

/** metaData and vendorData were checked to be JSON objects on the way in (setCloudInit); stored, they must still be maps or NULL. */
const cloudInitDecoder = object({ scope: str, metaData: nullable(anyMap), userData: nullable(str), vendorData: nullable(anyMap) });

/** The stored CloudInit item (SK CLOUDINIT); StoredItemError if it is malformed. */
export const decodeCloudInit = storedDecoder('CloudInit', cloudInitDecoder);
