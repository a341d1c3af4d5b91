//! The text engine as the web edge uses it: one process-wide tagger that reads every contact
//! recorded through the API or the pages.

use kimochi_text::ContactTagger;

use crate::error::AppError;

/// The shared tagger; the first call indexes the dictionary (a fraction of a second), so
/// `listen` calls it once before accepting requests.
pub fn tagger() -> Result<&'static ContactTagger, AppError> {
    ContactTagger::shared().map_err(|error| {
        tracing::error!(%error, "the text engine could not start");
        AppError::internal()
    })
}
