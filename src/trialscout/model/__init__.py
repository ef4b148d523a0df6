"""The source-independent trial model (the types every stage shares)."""

from .trial import (Age, Arm, Contact, DatePoint, Design, Eligibility, EventGroup, FlowGroup, Intervention,
                    Location, MeshTerm, Organization, Outcome, Reference, Results, Trial, is_nct_id)

__all__ = ["Age", "Arm", "Contact", "DatePoint", "Design", "Eligibility", "EventGroup", "FlowGroup",
           "Intervention", "Location", "MeshTerm", "Organization", "Outcome", "Reference", "Results", "Trial",
           "is_nct_id"]
