//! The offline lab: in-process DNS, a throwaway certificate authority, servers that inject known
//! delays, and user-space links that emulate far-origin and near-edge network paths.
