//! kimochi-text: the Japanese text engine — normalisation, personal-data masking, morphological
//! analysis over IPADIC, explainable kimochi tagging and crisis words. Pure: no clock, no
//! network; the dictionary is embedded in the binary.

pub mod dict;
pub mod tokenize;

pub use dict::{Dictionary, DictionaryError, Feature, PartOfSpeech};
pub use tokenize::{Scratch, Token, tokenize, tokenize_into};
