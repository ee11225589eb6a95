package storage

import (
	"context"
	"strings"
	"time"
)

// Assistant is a bot: settings, one draft graph and its published versions.
type Assistant struct {
	ID              string
	WorkspaceID     string
	Name            string
	DefaultLanguage string
	Languages       Strings
	// Settings is the engine's settings document (availability, audience,
	// handover rules…); storage only checks it is JSON.
	Settings  JSON
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName is the assistants table.
func (Assistant) TableName() string { return "assistants" }

// NewAssistant is the input of CreateAssistant.
type NewAssistant struct {
	// Name is stored as given; checking it for offensive words or brand
	// impersonation is the caller's job.
	Name string
	// DefaultLanguage defaults to "en".
	DefaultLanguage string
	// Languages defaults to [DefaultLanguage].
	Languages []string
	// Settings defaults to {}.
	Settings JSON
	// Graph is the initial draft; defaults to {}.
	Graph JSON
	// CreatedBy is the user creating it, recorded as the draft's author; may
	// be "".
	CreatedBy string
}

// ChannelRef names a channel in an assistant listing.
type ChannelRef struct {
	ID   string
	Name string
}

// AssistantSummary is one row of the assistants list.
type AssistantSummary struct {
	Assistant
	// Channels are the channels the assistant is connected to.
	Channels []ChannelRef
	// LatestVersion is the highest published version number, 0 if none.
	LatestVersion int
}

// Published reports whether the assistant has a published version (status
// "active" rather than "draft").
func (a AssistantSummary) Published() bool { return a.LatestVersion > 0 }

// CreateAssistant creates an assistant and its draft (revision 0).
func (s *Store) CreateAssistant(ctx context.Context, ws string, in NewAssistant) (*Assistant, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if name == "" {
		return nil, invalidf("assistant name is empty")
	}
	if err := checkText("assistant name", name, MaxNameBytes); err != nil {
		return nil, err
	}
	if in.DefaultLanguage == "" {
		in.DefaultLanguage = "en"
	}
	if len(in.Languages) == 0 {
		in.Languages = []string{in.DefaultLanguage}
	}
	if err := checkText("default language", in.DefaultLanguage, MaxNameBytes); err != nil {
		return nil, err
	}
	if err := checkStrings("languages", in.Languages, MaxStringListItems, MaxNameBytes); err != nil {
		return nil, err
	}
	settings, err := checkJSON("settings", in.Settings, "{}", MaxJSONBytes)
	if err != nil {
		return nil, err
	}
	graph, err := checkJSON("graph", in.Graph, "{}", MaxGraphBytes)
	if err != nil {
		return nil, err
	}
	now := s.now()
	a := &Assistant{
		ID: newID(), WorkspaceID: ws, Name: name, DefaultLanguage: in.DefaultLanguage,
		Languages: Strings(in.Languages), Settings: settings, CreatedAt: now, UpdatedAt: now,
	}
	err = s.InTx(ctx, func(tx *Store) error {
		if err := tx.needRef(ctx, "users", "user", ws, in.CreatedBy); err != nil {
			return err
		}
		if err := tx.conn(ctx).Create(a).Error; err != nil {
			return mapError(err)
		}
		d := &Draft{AssistantID: a.ID, WorkspaceID: ws, Revision: 0, Graph: graph, UpdatedAt: now, UpdatedBy: in.CreatedBy}
		return mapError(tx.conn(ctx).Create(d).Error)
	})
	if err != nil {
		return nil, wrap("create assistant", err)
	}
	return a, nil
}

// GetAssistant returns the assistant, or ErrNotFound.
func (s *Store) GetAssistant(ctx context.Context, ws, id string) (*Assistant, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var a Assistant
	if err := s.conn(ctx).Where("workspace_id = ? AND id = ?", ws, id).Take(&a).Error; err != nil {
		return nil, wrap("get assistant", err)
	}
	return &a, nil
}

// ListAssistants returns the workspace's assistants by name, each with its
// connected channels and latest published version.
func (s *Store) ListAssistants(ctx context.Context, ws string, limit int) ([]AssistantSummary, error) {
	if err := needWorkspace(ws); err != nil {
		return nil, err
	}
	var as []Assistant
	err := s.conn(ctx).Where("workspace_id = ?", ws).Order("name, id").Limit(clampLimit(limit)).Find(&as).Error
	if err != nil {
		return nil, wrap("list assistants", err)
	}
	if len(as) == 0 {
		return []AssistantSummary{}, nil
	}
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.ID
	}
	// Two more queries for the whole page, not two per assistant.
	var chans []Channel
	err = s.conn(ctx).Select("id, name, assistant_id").
		Where("workspace_id = ? AND assistant_id IN ?", ws, ids).Order("name, id").Find(&chans).Error
	if err != nil {
		return nil, wrap("list assistants: channels", err)
	}
	var latest []struct {
		AssistantID string
		Number      int
	}
	err = s.conn(ctx).Table("versions").Select("assistant_id, MAX(number) AS number").
		Where("workspace_id = ? AND assistant_id IN ?", ws, ids).Group("assistant_id").Scan(&latest).Error
	if err != nil {
		return nil, wrap("list assistants: versions", err)
	}
	byID := make(map[string]*AssistantSummary, len(as))
	out := make([]AssistantSummary, len(as))
	for i, a := range as {
		out[i] = AssistantSummary{Assistant: a, Channels: []ChannelRef{}}
		byID[a.ID] = &out[i]
	}
	for _, c := range chans {
		if sum := byID[c.AssistantID]; sum != nil {
			sum.Channels = append(sum.Channels, ChannelRef{ID: c.ID, Name: c.Name})
		}
	}
	for _, l := range latest {
		if sum := byID[l.AssistantID]; sum != nil {
			sum.LatestVersion = l.Number
		}
	}
	return out, nil
}

// RenameAssistant changes the assistant's name.
func (s *Store) RenameAssistant(ctx context.Context, ws, id, name string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		return invalidf("assistant name is empty")
	}
	if err := checkText("assistant name", name, MaxNameBytes); err != nil {
		return err
	}
	return s.updateAssistant(ctx, "rename assistant", ws, id, map[string]any{"name": name})
}

// AssistantSettings is the input of UpdateAssistantSettings.
type AssistantSettings struct {
	DefaultLanguage string
	Languages       []string
	Settings        JSON
}

// UpdateAssistantSettings replaces the assistant's languages and settings.
// Empty fields are left as they are.
func (s *Store) UpdateAssistantSettings(ctx context.Context, ws, id string, in AssistantSettings) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	set := map[string]any{}
	if in.DefaultLanguage != "" {
		if err := checkText("default language", in.DefaultLanguage, MaxNameBytes); err != nil {
			return err
		}
		set["default_language"] = in.DefaultLanguage
	}
	if in.Languages != nil {
		if err := checkStrings("languages", in.Languages, MaxStringListItems, MaxNameBytes); err != nil {
			return err
		}
		set["languages"] = Strings(in.Languages)
	}
	if in.Settings != nil {
		settings, err := checkJSON("settings", in.Settings, "{}", MaxJSONBytes)
		if err != nil {
			return err
		}
		set["settings"] = settings
	}
	return s.updateAssistant(ctx, "update assistant settings", ws, id, set)
}

func (s *Store) updateAssistant(ctx context.Context, op, ws, id string, set map[string]any) error {
	set["updated_at"] = s.now()
	res := s.conn(ctx).Table("assistants").Where("workspace_id = ? AND id = ?", ws, id).Updates(set)
	if res.Error != nil {
		return wrap(op, res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("assistant " + id)
	}
	return nil
}

// DeleteAssistant deletes the assistant with its draft and versions. Its
// channels fall back to their default response; its conversations keep
// going without an assistant; its analytics events stay.
func (s *Store) DeleteAssistant(ctx context.Context, ws, id string) error {
	if err := needWorkspace(ws); err != nil {
		return err
	}
	res := s.conn(ctx).Exec(`DELETE FROM assistants WHERE workspace_id = ? AND id = ?`, ws, id)
	if res.Error != nil {
		return wrap("delete assistant", res.Error)
	}
	if res.RowsAffected == 0 {
		return notFound("assistant " + id)
	}
	return nil
}
