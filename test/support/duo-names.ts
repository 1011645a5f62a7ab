/**
 * The WSDL and root type names generated code sees, per published contract: DUO's own for its two VO
 * contracts, the same pattern for ours (docs/protocol.md, "Names in the WSDLs"). Written out, not derived.
 */
export interface ContractNames {
  readonly portType: string;
  readonly binding: string;
  readonly service: string;
  readonly port: string;
  /** Operation → complexType of its request and of its response root element. */
  readonly rootTypes: Readonly<Record<string, readonly [request: string, response: string]>>;
}

export const CONTRACT_NAMES: Readonly<Record<string, ContractNames>> = {
  DUO_VOAanlevering_InschrijvingVO_V1: {
    portType: 'DUO_VOAanlevering_InschrijvingVO_V1.0_PortType',
    binding: 'DUO_VOAanlevering_InschrijvingVO_V1.0_Binding',
    service: 'DUO_VOAanlevering_InschrijvingVO_V1.0',
    port: 'DUO_VOAanlevering_InschrijvingVO_V1.0Port',
    rootTypes: {
      aanleverenInschrijvingVO: ['AanleverenInschrijvingVO_Request', 'AanleverenInschrijvingVO_Response'],
      aanleverenVerwijderingInschrijvingVO: [
        'AanleverenVerwijderingInschrijvingVO_Request',
        'AanleverenVerwijderingInschrijvingVO_Response',
      ],
    },
  },
  DUO_VOInformatiediensten_IdentificerenPersoonVO_V1: {
    portType: 'DUO_VOInformatiediensten_IdentificerenPersoonVO_V1.0_PortType',
    binding: 'DUO_VOInformatiediensten_IdentificerenPersoonVO_V1.0_Binding',
    service: 'DUO_VOInformatiediensten_IdentificerenPersoonVO_V1.0',
    port: 'DUO_VOInformatiediensten_IdentificerenPersoonVO_V1.0Port',
    // DUO writes these two with a lower-case a.
    rootTypes: {
      aanleverenIdentificerenPersoonVO: [
        'aanleverenIdentificerenPersoonVO_Request',
        'aanleverenIdentificerenPersoonVO_Response',
      ],
    },
  },
  DUO_VOAanlevering_ExamenresultaatVO_V1: {
    portType: 'DUO_VOAanlevering_ExamenresultaatVO_V1.0_PortType',
    binding: 'DUO_VOAanlevering_ExamenresultaatVO_V1.0_Binding',
    service: 'DUO_VOAanlevering_ExamenresultaatVO_V1.0',
    port: 'DUO_VOAanlevering_ExamenresultaatVO_V1.0Port',
    rootTypes: {
      aanleverenExamenresultaatVO: ['AanleverenExamenresultaatVO_Request', 'AanleverenExamenresultaatVO_Response'],
      aanleverenVerwijderingExamenresultaatVO: [
        'AanleverenVerwijderingExamenresultaatVO_Request',
        'AanleverenVerwijderingExamenresultaatVO_Response',
      ],
    },
  },
  DUO_BRP_Persoonsmutaties_V1: {
    portType: 'DUO_BRP_Persoonsmutaties_V1.0_PortType',
    binding: 'DUO_BRP_Persoonsmutaties_V1.0_Binding',
    service: 'DUO_BRP_Persoonsmutaties_V1.0',
    port: 'DUO_BRP_Persoonsmutaties_V1.0Port',
    rootTypes: { verwerkenPersoonsmutatie: ['VerwerkenPersoonsmutatie_Request', 'VerwerkenPersoonsmutatie_Response'] },
  },
  DUO_MBOAanlevering_Vooropleidingen_V1: {
    portType: 'DUO_MBOAanlevering_Vooropleidingen_V1.0_PortType',
    binding: 'DUO_MBOAanlevering_Vooropleidingen_V1.0_Binding',
    service: 'DUO_MBOAanlevering_Vooropleidingen_V1.0',
    port: 'DUO_MBOAanlevering_Vooropleidingen_V1.0Port',
    rootTypes: {
      aanvragenVooropleidingen: ['AanvragenVooropleidingen_Request', 'AanvragenVooropleidingen_Response'],
      stoppenAbonnementVooropleidingen: [
        'StoppenAbonnementVooropleidingen_Request',
        'StoppenAbonnementVooropleidingen_Response',
      ],
    },
  },
  DUO_VOTerugkoppeling_V1: {
    portType: 'DUO_VOTerugkoppeling_V1.0_PortType',
    binding: 'DUO_VOTerugkoppeling_V1.0_Binding',
    service: 'DUO_VOTerugkoppeling_V1.0',
    port: 'DUO_VOTerugkoppeling_V1.0Port',
    rootTypes: {
      terugkoppelenInschrijvingVO: ['TerugkoppelenInschrijvingVO_Request', 'TerugkoppelenInschrijvingVO_Response'],
      verstrekkenPersoonsgegevens: ['VerstrekkenPersoonsgegevens_Request', 'VerstrekkenPersoonsgegevens_Response'],
      verstrekkenDigitaalInUitschrijfbewijsVO: [
        'VerstrekkenDigitaalInUitschrijfbewijsVO_Request',
        'VerstrekkenDigitaalInUitschrijfbewijsVO_Response',
      ],
      verstrekkenBekostigingsstatus: [
        'VerstrekkenBekostigingsstatus_Request',
        'VerstrekkenBekostigingsstatus_Response',
      ],
      verstrekkenKwaliteitscontrole: [
        'VerstrekkenKwaliteitscontrole_Request',
        'VerstrekkenKwaliteitscontrole_Response',
      ],
      leverenVooropleidingsgegevens: [
        'LeverenVooropleidingsgegevens_Request',
        'LeverenVooropleidingsgegevens_Response',
      ],
      terugkoppelenExamenresultaatVO: [
        'TerugkoppelenExamenresultaatVO_Request',
        'TerugkoppelenExamenresultaatVO_Response',
      ],
      verstrekkenExamenresultaatVO: ['VerstrekkenExamenresultaatVO_Request', 'VerstrekkenExamenresultaatVO_Response'],
    },
  },
};
