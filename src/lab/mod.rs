//! The offline lab: in-process DNS, a throwaway certificate authority, servers that inject known
//! delays, and user-space links that emulate far-origin and near-edge network paths.

pub mod choice;
pub mod datagram_link;
pub mod dns;
pub mod edge;
pub mod fixture;
pub mod front;
pub mod link;
pub mod listening;
pub mod netns;
pub mod origin;
pub mod region_lab;
pub mod regions;
pub mod tls;
pub mod upstream;
