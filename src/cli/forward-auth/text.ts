// The comment lines every generated proxy configuration starts and ends with.
import type { ForwardAuthContract } from './contract.js'

export function header(c: ForwardAuthContract, proxy: string, mark: string): string {
  return [
    `${mark} Généré par « psc-gateway forward-auth ${proxy} » depuis ${c.source}.`,
    `${mark} À régénérer après chaque changement des en-têtes d'identité, des assertions ou du préfixe :`,
    `${mark} tout en-tête configuré est posé par la passerelle ou vidé, quoi que le client envoie.`,
    `${mark} Passerelle : ${c.gateway.origin}  application (${c.appName}) : ${c.app.origin}  public : ${c.publicUrl}`,
  ].join('\n')
}

export function trustedProxyNote(c: ForwardAuthContract, mark: string): string {
  return c.noTrustedProxy
    ? `${mark} ATTENTION : trustedProxies est vide dans ${c.source}. Ajoutez-y l'adresse de ce proxy, sinon\n${mark} la passerelle refuse ses sous-requêtes et ne donne pas l'assertion signée.\n`
    : ''
}
