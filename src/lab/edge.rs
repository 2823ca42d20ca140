//! A caching edge (CDN emulation): serves hits from memory, fetches misses over the far path, says X-Cache/Age/POP.
