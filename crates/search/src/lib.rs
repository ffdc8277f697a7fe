//! Product search: the Korean/English analyzer, the in-memory index and its ranking, semantic retrieval
//! over embeddings and its fusion with the lexical ranking (`dense`; on large catalogs through an
//! inverted-file index, `ivf`; one-byte vector arithmetic, `int8`), the shop's Korean ↔
//! English vocabulary (`thesaurus`), and the relevance
//! evaluation on graded judgements (Home Depot's format). Plain text in, ranked document positions out;
//! no database or HTTP here.

pub mod analyze;
pub mod dense;
pub mod eval;
pub mod index;
pub mod int8;
pub mod ivf;
pub mod thesaurus;

pub use index::Index;
