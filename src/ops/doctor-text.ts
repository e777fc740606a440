// What `doctor` prints, in French (the default: hospital IT teams read it) and in English (--lang en).
// One entry per finding, so that every sentence of a check has both forms side by side.

export type CliLanguage = 'fr' | 'en'

/** Where the outbound proxy was named: the advice points at that place, not at another. */
export type ProxySource = { kind: 'config' } | { kind: 'env'; name: string }

const proxyPlaceFr = (s: ProxySource) =>
  s.kind === 'env' ? `la variable d'environnement ${s.name}` : 'psc.outboundProxy'
const proxyPlaceEn = (s: ProxySource) => (s.kind === 'env' ? `the environment variable ${s.name}` : 'psc.outboundProxy')

/** The outbound failure codes (PSC_ERR_OUTBOUND in errors.ts), said in a few words before the technical detail. */
const FAILURES = {
  fr: {
    PSC_ERR_OUTBOUND_PROXY: "le proxy de sortie a refusé ou n'a pas répondu",
    PSC_ERR_PSC_UNREACHABLE: 'PSC injoignable',
    PSC_ERR_PSC_TLS: 'la connexion TLS avec PSC a échoué',
    PSC_ERR_PSC_RESPONSE: 'réponse inattendue',
    PSC_ERR_CLIENT_CERTIFICATE_REFUSED: 'PSC a refusé le certificat client',
  } as Record<string, string>,
  en: {
    PSC_ERR_OUTBOUND_PROXY: 'the outbound proxy refused or did not answer',
    PSC_ERR_PSC_UNREACHABLE: 'PSC unreachable',
    PSC_ERR_PSC_TLS: 'TLS with PSC failed',
    PSC_ERR_PSC_RESPONSE: 'unexpected answer',
    PSC_ERR_CLIENT_CERTIFICATE_REFUSED: 'PSC refused the client certificate',
  } as Record<string, string>,
}

const fr = {
  configOk: (source: string) => `${source} est valide`,
  configWarnings: (source: string, n: number, list: string) =>
    `${source} est valide, avec ${n} avertissement(s) : ${list}`,
  configWarningsTodo: 'lisez les avertissements ci-dessus',
  configFix: (file: string) => `corrigez ${file} (psc-gateway check --config ${file})`,
  fileNotFound: (file: string) => `fichier introuvable : ${file}`,
  fileNotFoundTodo: 'vérifiez le chemin donné à --config',
  noProxy: 'pas de proxy de sortie vers PSC (connexion directe)',
  noProxyTodo: 'si ce serveur ne sort sur Internet que par un proxy, renseignez HTTPS_PROXY ou psc.outboundProxy',
  tlsOk: (host: string, ca?: string) => `TLS avec ${host} : chaîne de certificats vérifiée${ca ? ` (avec ${ca})` : ''}`,
  tlsHttp: (host: string) => `${host} est joint en http:// (émulateur seulement)`,
  tlsHttpTodo: 'utilisez un émetteur https:// hors développement',
  tlsFailTodo: "ajoutez à psc.tls.ca l'autorité qui signe ce que voit ce serveur (celle d'un proxy qui inspecte TLS)",
  notReached: 'PSC non joint',
  noDiscovery: 'pas de document de découverte',
  answered: (href: string, status: number) => `${href} a répondu ${status}`,
  wrongUrlTodo: 'vérifiez psc.environment / psc.discoveryUrl',
  proxyAnswered: (href: string, status: number, proxy: string) =>
    `le proxy de sortie ${proxy} a répondu ${status} pour ${href} : il n'a pas pu joindre PSC`,
  proxyAnsweredTodo:
    'le proxy de sortie a échoué, pas la configuration : voyez son journal et son propre accès à Internet',
  pscErrorTodo: "PSC répond en erreur : réessayez plus tard, et consultez l'état du service de l'ANS",
  notJson: (href: string) => `${href} n'a pas répondu en JSON`,
  notJsonTodo: "un proxy ou un portail répond peut-être à la place de PSC : vérifiez l'adresse et le proxy",
  failure: (code: string, message: string) => `${FAILURES.fr[code] ?? code} (${code} : ${message})`,
  proxyFailureTodo:
    "demandez à l'équipe réseau ce qu'il en est du proxy de sortie (adresse, identifiants, CONNECT autorisé vers PSC)",
  reachTodo: 'vérifiez que ce serveur peut joindre PSC (pare-feu, proxy, DNS)',
  certificateRefusedTodo:
    "PSC refuse le certificat client : il doit être le certificat IGC Santé déclaré à l'ANS pour ce client, valide et non révoqué (psc.certificate) ; ce n'est pas un problème de réseau",
  dnsViaProxy: (list: string) => `${list} non résolu(s) ici ; le proxy de sortie résout les noms de PSC`,
  dnsFail: (list: string) => `impossible de résoudre ${list}`,
  dnsTodo:
    'corrigez le DNS de ce serveur, ou renseignez le proxy de sortie (HTTPS_PROXY ou psc.outboundProxy) si le réseau en impose un',
  proxyTimeout: (shown: string, ms: number) => `le proxy de sortie ${shown} n'a pas répondu en ${ms} ms`,
  proxyTimeoutTodo: "vérifiez l'adresse du proxy et le pare-feu entre ce serveur et le proxy",
  proxyUnreachable: (shown: string, code: string) => `le proxy de sortie ${shown} est injoignable (${code})`,
  proxyUnreachableTodo: (s: ProxySource) =>
    `vérifiez l'adresse du proxy (${proxyPlaceFr(s)}) et que le proxy fonctionne`,
  proxyOk: (shown: string, target: string) => `le proxy de sortie ${shown} accepte CONNECT vers ${target}`,
  proxyAuth: (shown: string) => `le proxy de sortie ${shown} demande une authentification (407)`,
  proxyAuthTodo: (s: ProxySource) =>
    s.kind === 'env'
      ? `mettez l'identifiant et le mot de passe dans ${s.name} (http://identifiant:mot-de-passe@proxy:port), ou décrivez le proxy dans psc.outboundProxy (username, password depuis l'environnement)`
      : "renseignez psc.outboundProxy.username et password (le mot de passe depuis l'environnement)",
  proxyRefused: (shown: string, target: string, status: number) =>
    `le proxy de sortie ${shown} refuse CONNECT vers ${target} (${status})`,
  proxyRefusedTodo: (target: string) => `demandez à l'équipe réseau d'autoriser CONNECT vers ${target}`,
  proxyOther: (shown: string, target: string, answer: string) =>
    `le proxy de sortie ${shown} n'a pas pu se connecter à ${target} (il a répondu ${answer})`,
  proxyOtherTodo: 'le proxy de sortie a échoué à joindre PSC : vérifiez son propre accès à Internet et son journal',
  wrongIssuer: (got: string, expected: string) => `le document annonce l'émetteur ${got}, attendu ${expected}`,
  wrongIssuerTodo: 'vérifiez psc.environment (bas ou production) ou psc.issuer',
  lacks: (list: string) => `il manque au document : ${list}`,
  lacksTodo: 'vérifiez psc.discoveryUrl',
  noMethod: (method: string, offered: string) => `PSC ne propose pas ${method} (propose ${offered})`,
  noMethodTodo: 'changez psc.clientAuth',
  discoveryOk: (issuer: string, at: string) => `émetteur ${issuer} ; autorisation à ${at}`,
  noDate: "PSC n'a pas envoyé d'en-tête Date : écart non mesuré",
  skew: (seconds: number, ahead: boolean) =>
    `l'horloge de ce serveur est ${ahead ? 'en avance' : 'en retard'} de ${seconds} s sur celle de PSC`,
  skewTooLarge: (text: string, max: number) => `${text} (plus de ${max} s ; les jetons de PSC vivent 2 minutes)`,
  ntpTodo: "synchronisez l'horloge (NTP : chrony ou systemd-timesyncd)",
  ntpCheckTodo: 'vérifiez la synchronisation NTP',
  jwksEmpty: (uri: string, status: number) => `${uri} a répondu ${status} sans clé`,
  jwksEmptyTodo: 'vérifiez le proxy (il répond peut-être à la place de PSC)',
  jwksOk: (n: number, uri: string) => `${n} clé(s) de signature à ${uri}`,
  jwksFailTodo: 'les clés servent à vérifier les jetons de déconnexion back-channel',
  byCertificate: (subject: string) => `le certificat client (${subject})`,
  bySecret: (clientId: string) => `l'identifiant client ${clientId} et son secret`,
  noCertificate: 'aucun',
  clientAuthNetTodo: (mtls: boolean): string =>
    mtls
      ? "PSC a peut-être fermé la connexion à cause du certificat : vérifiez que c'est celui enregistré à l'ANS"
      : 'vérifiez le chemin réseau vers le point de jeton',
  clientAuthOk: (how: string) => `PSC a accepté ${how} (un code inventé a reçu invalid_grant, comme attendu)`,
  clientAuthRefused: (how: string) => `PSC a refusé ${how} : invalid_client`,
  clientAuthRefusedTodo: (mtls: boolean): string =>
    mtls
      ? "ce certificat n'est pas accepté par PSC pour ce client : il doit être émis par l'IGC Santé, être celui déclaré à l'ANS (sujet) et ne pas être expiré"
      : 'vérifiez psc.clientId et psc.clientSecret pour cet environnement (BAS et production ont des secrets différents)',
  unauthorized: (error: string) => `PSC a accepté le client mais pas le flux « authorization code » (${error})`,
  unauthorizedTodo: "demandez à l'ANS d'activer le flux « authorization code » pour ce client",
  unexpected: (status: number, error: string) => `réponse inattendue du point de jeton : ${status} ${error}`.trim(),
  unexpectedTodo: 'essayez une vraie connexion sur le BAS',
  certificateMissing: 'clientAuth vaut tls_client_auth mais psc.certificate manque',
  certificateMissingTodo: 'renseignez psc.certificate',
  certificateNone: 'pas de certificat client (authentification par secret)',
  certificate: (subject: string, issuer: string, until: string) =>
    `${subject}, émis par ${issuer}, valable jusqu'au ${until}`,
  certificateExpired: (what: string) => `expiré : ${what}`,
  certificateRenewTodo: 'renouvelez le certificat (IGC Santé) et remplacez psc.certificate',
  certificateNotYet: (what: string) => `pas encore valable : ${what}`,
  certificateClockTodo: "vérifiez l'horloge de ce serveur, ou attendez",
  certificateSoon: (days: number, what: string) => `expire dans ${days} jour(s) : ${what}`,
  certificateSoonTodo: 'commandez le renouvellement maintenant',
  registeredMissing: (a: string, b: string) => `non déclarées : la passerelle envoie ${a} et ${b}`,
  registeredMissingTodo:
    "recopiez dans psc.registered les URL enregistrées par l'ANS, pour qu'un écart soit trouvé ici et non par un praticien",
  registeredOk: (a: string, b: string) => `${a} et ${b} correspondent à psc.registered`,
  summaryOk: 'doctor : aucun échec',
  summaryFailed: (n: number) => `doctor : ${n} échec(s)`,
}

const en: typeof fr = {
  configOk: (source: string) => `${source} is valid`,
  configWarnings: (source: string, n: number, list: string) => `${source} is valid, with ${n} warning(s): ${list}`,
  configWarningsTodo: 'read the warnings above',
  configFix: (file: string) => `fix ${file} (psc-gateway check --config ${file})`,
  fileNotFound: (file: string) => `file not found: ${file}`,
  fileNotFoundTodo: 'check the path given to --config',
  noProxy: 'no outbound proxy for PSC (direct connection)',
  noProxyTodo: 'if this server reaches the internet only through a proxy, set HTTPS_PROXY or psc.outboundProxy',
  tlsOk: (host: string, ca?: string) => `TLS to ${host}: certificate chain verified${ca ? ` (with ${ca})` : ''}`,
  tlsHttp: (host: string) => `${host} is reached over http:// (emulator only)`,
  tlsHttpTodo: 'use an https:// issuer outside development',
  tlsFailTodo: "add the CA that signs what this server sees (a TLS-inspecting proxy's CA) to psc.tls.ca",
  notReached: 'PSC not reached',
  noDiscovery: 'no discovery document',
  answered: (href: string, status: number) => `${href} answered ${status}`,
  wrongUrlTodo: 'check psc.environment / psc.discoveryUrl',
  proxyAnswered: (href: string, status: number, proxy: string) =>
    `the outbound proxy ${proxy} answered ${status} for ${href}: it could not reach PSC`,
  proxyAnsweredTodo:
    'the outbound proxy failed, not the configuration: read its log and check its own access to the internet',
  pscErrorTodo: "PSC answers with an error: try again later, and look at ANS's service status",
  notJson: (href: string) => `${href} did not answer JSON`,
  notJsonTodo: 'a proxy or portal may answer instead of PSC: check the URL and the proxy',
  failure: (code: string, message: string) => `${FAILURES.en[code] ?? code} (${code}: ${message})`,
  proxyFailureTodo: 'ask the network team about the outbound proxy (address, credentials, CONNECT allowed to PSC)',
  reachTodo: 'check that this server can reach PSC (firewall, proxy, DNS)',
  certificateRefusedTodo:
    'PSC refuses the client certificate: it must be the IGC Santé certificate registered at ANS for this client, valid and not revoked (psc.certificate); this is not a network problem',
  dnsViaProxy: (list: string) => `${list} not resolved here; the outbound proxy resolves PSC's names`,
  dnsFail: (list: string) => `cannot resolve ${list}`,
  dnsTodo:
    "fix this server's DNS, or set the outbound proxy (HTTPS_PROXY or psc.outboundProxy) if the network requires one",
  proxyTimeout: (shown: string, ms: number) => `the outbound proxy ${shown} did not answer within ${ms} ms`,
  proxyTimeoutTodo: 'check the proxy address and the firewall between this server and the proxy',
  proxyUnreachable: (shown: string, code: string) => `the outbound proxy ${shown} cannot be reached (${code})`,
  proxyUnreachableTodo: (s: ProxySource) => `check the proxy address (${proxyPlaceEn(s)}) and that the proxy runs`,
  proxyOk: (shown: string, target: string) => `the outbound proxy ${shown} accepts CONNECT to ${target}`,
  proxyAuth: (shown: string) => `the outbound proxy ${shown} asks for authentication (407)`,
  proxyAuthTodo: (s: ProxySource) =>
    s.kind === 'env'
      ? `put the user name and password in ${s.name} (http://user:password@proxy:port), or describe the proxy in psc.outboundProxy (username, password from the environment)`
      : 'set psc.outboundProxy.username and password (password from the environment)',
  proxyRefused: (shown: string, target: string, status: number) =>
    `the outbound proxy ${shown} refuses CONNECT to ${target} (${status})`,
  proxyRefusedTodo: (target: string) => `ask the network team to allow CONNECT to ${target}`,
  proxyOther: (shown: string, target: string, answer: string) =>
    `the outbound proxy ${shown} could not connect to ${target} (it answered ${answer})`,
  proxyOtherTodo: 'the outbound proxy failed to reach PSC: check its own access to the internet and its log',
  wrongIssuer: (got: string, expected: string) => `the document names issuer ${got}, expected ${expected}`,
  wrongIssuerTodo: 'check psc.environment (bas or production) or psc.issuer',
  lacks: (list: string) => `the document lacks ${list}`,
  lacksTodo: 'check psc.discoveryUrl',
  noMethod: (method: string, offered: string) => `PSC does not offer ${method} (offers ${offered})`,
  noMethodTodo: 'change psc.clientAuth',
  discoveryOk: (issuer: string, at: string) => `issuer ${issuer}; authorization at ${at}`,
  noDate: 'PSC sent no Date header: skew not measured',
  skew: (seconds: number, ahead: boolean) =>
    `this server's clock is ${seconds} s ${ahead ? 'ahead of' : 'behind'} PSC's`,
  skewTooLarge: (text: string, max: number) => `${text} (more than ${max} s; PSC's tokens live 2 minutes)`,
  ntpTodo: 'synchronise the clock (NTP: chrony or systemd-timesyncd)',
  ntpCheckTodo: 'check NTP synchronisation',
  jwksEmpty: (uri: string, status: number) => `${uri} answered ${status} with no key`,
  jwksEmptyTodo: 'check the proxy (it may answer instead of PSC)',
  jwksOk: (n: number, uri: string) => `${n} signing key(s) at ${uri}`,
  jwksFailTodo: 'the keys are needed to check back-channel logout tokens',
  byCertificate: (subject: string) => `the client certificate (${subject})`,
  bySecret: (clientId: string) => `the client id ${clientId} and its secret`,
  noCertificate: 'none',
  clientAuthNetTodo: (mtls: boolean): string =>
    mtls
      ? 'PSC may have closed the connection over the certificate: check it is the one registered at ANS'
      : 'check the network path to the token endpoint',
  clientAuthOk: (how: string) => `PSC accepted ${how} (a made-up code got invalid_grant, as expected)`,
  clientAuthRefused: (how: string) => `PSC refused ${how}: invalid_client`,
  clientAuthRefusedTodo: (mtls: boolean): string =>
    mtls
      ? 'the certificate is not one PSC accepts for this client: issued by IGC Santé, the one declared at ANS (subject), not expired'
      : 'check psc.clientId and psc.clientSecret for this environment (BAS and production have different secrets)',
  unauthorized: (error: string) => `PSC accepted the client but not the authorization code flow (${error})`,
  unauthorizedTodo: 'ask ANS to enable the authorization code flow for this client',
  unexpected: (status: number, error: string) => `unexpected answer from the token endpoint: ${status} ${error}`.trim(),
  unexpectedTodo: 'try a real login on the BAS',
  certificateMissing: 'clientAuth is tls_client_auth but no psc.certificate',
  certificateMissingTodo: 'set psc.certificate',
  certificateNone: 'no client certificate (clientAuth by secret)',
  certificate: (subject: string, issuer: string, until: string) =>
    `${subject}, issued by ${issuer}, valid until ${until}`,
  certificateExpired: (what: string) => `expired: ${what}`,
  certificateRenewTodo: 'renew the certificate (IGC Santé) and replace psc.certificate',
  certificateNotYet: (what: string) => `not valid yet: ${what}`,
  certificateClockTodo: "check this server's clock, or wait",
  certificateSoon: (days: number, what: string) => `expires in ${days} day(s): ${what}`,
  certificateSoonTodo: 'order the renewal now',
  registeredMissing: (a: string, b: string) => `not declared: the gateway sends ${a} and ${b}`,
  registeredMissingTodo:
    'copy the URLs ANS registered into psc.registered, so that a mismatch is found here and not by a practitioner',
  registeredOk: (a: string, b: string) => `${a} and ${b} match psc.registered`,
  summaryOk: 'doctor: no failure',
  summaryFailed: (n: number) => `doctor: ${n} failure(s)`,
}

export type DoctorText = typeof fr
export const DOCTOR_TEXT: Record<CliLanguage, DoctorText> = { fr, en }
