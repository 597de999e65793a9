//! Chunk and buffer planning: how a problem's buffers are split over
//! bindings that fit the adapter's `max_storage_buffer_binding_size`, and
//! how large they are, before anything is allocated.
//!
//! - [`chunks`]: the CG's chunks of active nodes ([`Chunk`],
//!   [`plan_chunks`]) and the byte range a kernel binds of each buffer.
//! - [`levels`]: the multigrid levels' chunks and windows ([`LevelChunk`],
//!   [`Span`], [`plan_levels`]) and the coarsest inverse's rows
//!   ([`row_chunks`]).
//! - `hierarchy.rs`: the whole device hierarchy's size checks and chunks
//!   (`plan_hierarchy`).

pub mod chunks;
pub(crate) mod hierarchy;
pub mod levels;

pub use chunks::{plan_chunks, Chunk};
pub use levels::{plan_levels, row_chunks, LevelChunk, LevelShape, Span};
