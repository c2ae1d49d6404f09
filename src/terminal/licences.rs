//! 电子证照 calls to the platform, each on a worker thread: which e-licences a person holds,
//! and the masked copy of one for 证照打印.

use std::sync::Arc;

/// Asks the platform, on a worker thread, which e-licences (电子证照) the person with
/// `id_number` holds; `done` gets the number and the licence names, or what went wrong (证照打印
/// tells the citizen it needs the network; elsewhere the materials are simply not exempt).
pub fn look_up_licences(
    platform: Arc<crate::terminal::link::PlatformLink>,
    id_number: String,
    done: impl FnOnce(String, Result<Vec<String>, String>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("licences".into())
        .spawn(move || {
            let answer = platform
                .runtime()
                .block_on(platform.client.licences(&id_number))
                .map(|list| list.licences.into_iter().map(|l| l.licence_type).collect())
                .map_err(|e| e.to_string());
            done(id_number, answer);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "e-licence look-up not started");
    }
}

/// Fetches one e-licence's printable copy on a worker thread; `done` gets it, or the reason
/// in the citizen's words (the platform's own error is logged).
pub fn fetch_licence_copy(
    platform: Arc<crate::terminal::link::PlatformLink>,
    id_number: String,
    licence_type: String,
    done: impl FnOnce(Result<crate::core::platform::wire::LicenceDocument, String>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("licence-copy".into())
        .spawn(move || {
            let answer = platform
                .runtime()
                .block_on(platform.client.licence_document(&id_number, &licence_type))
                .map_err(|e| {
                    if let crate::core::platform::LicenceDocumentError::Unavailable(cause) = &e {
                        tracing::warn!(error = %cause, "e-licence copy not fetched");
                    }
                    e.to_string()
                });
            done(answer);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "e-licence copy not started");
    }
}

/// Fetches a certificate (证明开具) on a worker thread and checks it — size, the platform's
/// signature, a PDF — before `done` gets it; a document that fails any check never reaches
/// `done` as printable (the reason, in the citizen's words, does).
pub fn fetch_certificate(
    platform: Arc<crate::terminal::link::PlatformLink>,
    id_number: String,
    task_code: String,
    done: impl FnOnce(Result<crate::core::certificate::VerifiedCertificate, String>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("certificate".into())
        .spawn(move || {
            let answer = platform
                .runtime()
                .block_on(platform.client.certificate(&id_number, &task_code))
                .map_err(|e| {
                    if let crate::core::platform::LicenceDocumentError::Unavailable(cause) = &e {
                        tracing::warn!(error = %cause, "certificate not fetched");
                    }
                    e.to_string()
                })
                .and_then(|doc| {
                    crate::core::certificate::verify(&doc, platform.client.verifying_key())
                        .map_err(|refusal| {
                            tracing::warn!(reason = ?refusal, "certificate refused before printing");
                            refusal.to_string()
                        })
                });
            done(answer);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "certificate fetch not started");
    }
}

/// Asks the platform, on a worker thread, which certificates (证明) it issues at terminals;
/// `done` gets the list (empty when the platform could not say: nothing is offered then).
pub fn certificate_types(
    platform: Arc<crate::terminal::link::PlatformLink>,
    done: impl FnOnce(Vec<crate::core::platform::wire::CertificateType>) + Send + 'static,
) {
    let spawned = std::thread::Builder::new()
        .name("certificate-types".into())
        .spawn(move || {
            let list = platform
                .runtime()
                .block_on(platform.client.certificate_types())
                .map(|l| l.certificates)
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "certificate list not fetched");
                    Vec::new()
                });
            done(list);
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "certificate list not started");
    }
}
